// Writes the state machine definitions to libs/workflow/definitions/*.asl.json (ARNs as
// ${...} placeholders), the files a user reads or imports into the Step Functions console:
//   npx nx run workflow:export-definitions
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { exportedDefinitionFiles } from '../src/index';

const directory = join(process.env.SCONES_ROOT ?? process.cwd(), 'libs/workflow/definitions');
for (const [name, text] of Object.entries(exportedDefinitionFiles())) {
  const file = join(directory, name);
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
  process.stdout.write(`wrote ${file}\n`);
}
