import baseConfig from '../../eslint.config.mjs';
import { allowToolsImports } from '../../tools/eslint-tools-imports.mjs';

export default allowToolsImports(baseConfig);
