// ESLint flat-config helper: lets a project's tests and benchmarks import the shared test/bench kits
// in tools/ by relative path. tools/ is the Nx project `workspace-tools` (so `nx affected` sees who
// uses it), but @nx/enforce-module-boundaries rejects relative imports of another project; these
// kits have no package entry point by design. The rule's other options come from the workspace config.
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
