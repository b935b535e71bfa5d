// ESLint flat-config helper: lets a project's tests and benchmarks import the shared test/bench kits
// in tools/ by relative path (tools/ is no Nx project, so @nx/enforce-module-boundaries rejects such
// imports as "external resources"). The rule's other options are taken from the workspace config.
const RULE = '@nx/enforce-module-boundaries';
const TOOLS_IMPORT = '^(\\.\\./)+tools/[\\w.-]+$';

export function allowToolsImports(config) {
  return [
    ...config,
    ...config
      .filter((entry) => entry.rules?.[RULE])
      .map((entry) => {
        const [level, options = {}] = entry.rules[RULE];
        return {
          files: ['**/*.spec.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
          rules: { [RULE]: [level, { ...options, allow: [...(options.allow ?? []), TOOLS_IMPORT] }] },
        };
      }),
  ];
}
