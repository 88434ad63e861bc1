// Lint limits keep functions small and promises handled (see shared/style.md, pepr).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'crds/types.gen.ts', '.airlock/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      complexity: ['error', 15],
      'max-params': ['error', 4],
      'max-depth': ['error', 4],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Tests are tables and scenarios: long bodies are expected there.
    files: ['**/*.test.ts', 'e2e/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Command-line entry points talk to a terminal.
    files: ['hack/**/*.ts', 'bench/**/*.ts', 'plugin/**/*.ts', '**/*cli.ts'],
    rules: { 'no-console': 'off' },
  },
  // Which home may import which (docs/architecture.md). core/ is what more than one binary uses
  // (the policy engine, approval state, the audit record and its chain, recordings, the gateway's
  // config contract, the Kubernetes client runtime); each binary imports core, never another binary.
  ...boundaries([
    { home: 'core', mayNotImport: ['gateway', 'operator', 'plugin', 'hack', 'bench', 'e2e'] },
    { home: 'gateway', mayNotImport: ['operator', 'plugin', 'hack', 'bench', 'e2e'] },
    { home: 'operator', mayNotImport: ['gateway', 'plugin', 'hack', 'bench', 'e2e'] },
    { home: 'plugin', mayNotImport: ['gateway', 'operator', 'hack', 'bench', 'e2e'] },
    { home: 'crds', mayNotImport: ['core', 'gateway', 'operator', 'plugin', 'hack', 'bench', 'e2e'] },
  ]),
  { files: ['eslint.config.js', 'vitest.config.ts'], ...tseslint.configs.disableTypeChecked },
);

/** One no-restricted-imports block per home: its files (tests included) may not reach the listed homes. */
function boundaries(rules) {
  const block = (files, ignores, homes, home) => ({
    files,
    ignores,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: homes.map((other) => ({
          group: [`**/${other}/**`, `${other}/**`],
          message: `${home}/ may not import ${other}/: move what both need into core/ (see docs/architecture.md).`,
        })),
      }],
    },
  });
  // Tests may also use hack/'s local control plane and PKI helpers.
  return rules.flatMap(({ home, mayNotImport }) => [
    block([`${home}/**/*.ts`], ['**/*.test.ts'], mayNotImport, home),
    block([`${home}/**/*.test.ts`], [], mayNotImport.filter((other) => other !== 'hack'), home),
  ]);
}
