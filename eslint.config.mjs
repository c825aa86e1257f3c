// ESLint flat config for the whole workspace (`npm run lint` = `eslint .`).
//
// - typescript-eslint: type-checked rules for apps/** and libs/**, on one TypeScript program built from the
//   root tsconfig.json (what `tsc -p tsconfig.json` checks; projectService would build one program per
//   project tsconfig: measured 62 s and 2.3 GB against 13-30 s and 0.9 GB), syntax-only rules for the rest
//   (e2e, examples, bench, scripts).
// - Module boundaries: @nx/enforce-module-boundaries with constraints on both tag axes of project.json
//   (`type:*`, `scope:*`), plus no-restricted-imports for packages that belong to one place only.
// - Import order (baton/import-order, scripts/lib/eslint-plugin-baton.mjs) and consistent-type-imports.
// - eslint-config-prettier last: formatting is Prettier's job.
// The boundaries are proven by scripts/lint-boundaries.spec.ts.
import js from '@eslint/js';
import { createProjectGraphAsync } from '@nx/devkit';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import baton from './scripts/lib/eslint-plugin-baton.mjs';

const root = import.meta.dirname;

// The boundaries rule reads Nx's cached project graph and silently skips itself when there is none, so
// compute (or refresh) the graph here: every way of running ESLint then enforces the boundaries.
const graph = await createProjectGraphAsync({ exitOnError: false });
const projects = Object.values(graph.nodes);

const TS = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS = ['**/*.js', '**/*.mjs', '**/*.cjs'];
const TYPED = ['apps/**/*.ts', 'libs/**/*.ts'];
const TESTS = ['**/*.spec.ts', '**/*.integration-spec.ts', '**/test/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts'];

/**
 * What each project type may depend on. Apps meet only over NATS, so no type may depend on `type:app`
 * (Nx also forbids importing apps outright).
 */
const TYPE_RULES = {
  'type:app': ['type:lib', 'type:infra', 'type:contracts', 'type:sdk'],
  'type:contracts': [],
  'type:lib': ['type:lib', 'type:infra', 'type:contracts'],
  'type:infra': ['type:lib', 'type:infra', 'type:contracts'],
  'type:sdk': ['type:contracts'],
  'type:testing': ['type:lib', 'type:infra', 'type:contracts', 'type:sdk', 'type:testing'],
  // e2e suites, should they get a project.json: anything but apps, which they run as processes.
  'type:e2e': ['type:lib', 'type:infra', 'type:contracts', 'type:sdk', 'type:testing'],
};

/** Packages that contracts (message shapes, no I/O, no framework) must never import. */
const CONTRACTS_BANNED = ['@nestjs/*', '@nats-io/*', 'pg', 'typeorm'];

/** Scope axis: `scope:<app>` may use its own scope and `scope:shared`; shared code only shared code. */
const scopeTags = new Set(['scope:shared']);
for (const project of projects) {
  for (const tag of project.data.tags ?? []) if (tag.startsWith('scope:')) scopeTags.add(tag);
}
const scopeConstraints = [...scopeTags].sort().map((tag) => ({
  sourceTag: tag,
  onlyDependOnLibsWithTags: tag === 'scope:shared' ? ['scope:shared'] : [tag, 'scope:shared'],
}));

/**
 * @param {boolean} tests whether the files are tests: those may also use the `type:testing` harness
 */
function depConstraints(tests) {
  const typeConstraints = Object.entries(TYPE_RULES).map(([sourceTag, allowed]) => ({
    sourceTag,
    onlyDependOnLibsWithTags:
      tests && sourceTag !== 'type:contracts' && !allowed.includes('type:testing')
        ? [...allowed, 'type:testing']
        : allowed,
    ...(sourceTag === 'type:contracts' ? { bannedExternalImports: CONTRACTS_BANNED } : {}),
  }));
  return [...typeConstraints, ...scopeConstraints];
}

// A test's import of the testing harness is a test-only edge: cycles through `testing` (testing -> lib,
// lib's spec -> testing) are not cycles of the shipped code, whose edges into `type:testing` are errors anyway.
const testingProjects = projects.filter((p) => (p.data.tags ?? []).includes('type:testing'));
const ignoredCircularDependencies = testingProjects.flatMap((t) =>
  projects.filter((p) => p.name !== t.name).map((p) => [t.name, p.name]),
);

const boundaries = (tests) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allowCircularSelfDependency: false,
    ignoredCircularDependencies,
    depConstraints: depConstraints(tests),
  },
];

const TYPEORM_ONLY_IN_PERSISTENCE = {
  name: 'typeorm',
  message: 'Only libs/persistence may use TypeORM; go through @baton/persistence.',
};
const restrictedImports = {
  paths: [TYPEORM_ONLY_IN_PERSISTENCE],
  patterns: [{ group: ['typeorm/*'], message: TYPEORM_ONLY_IN_PERSISTENCE.message }],
};
const contractsRestrictedImports = {
  paths: [
    TYPEORM_ONLY_IN_PERSISTENCE,
    { name: 'pg', message: 'Contracts hold shapes and names only: no database drivers.' },
  ],
  patterns: [
    {
      group: ['@nestjs/*', '@nats-io/*', 'typeorm/*', 'pg/*'],
      message: 'Contracts hold shapes and names only: no Nest, no NATS client, no database.',
    },
  ],
};

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'structuredClone',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'fetch',
    'Response',
    'Request',
    'Headers',
    'performance',
  ].map((name) => [name, 'readonly']),
);
const commonJsGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
};

export default [
  {
    ignores: ['**/node_modules/**', 'dist/**', '.nx/**', 'coverage/**', 'tmp/**', '.baton/**', '**/*.d.ts'],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  // JavaScript (configs, scripts): Node globals; `.js` is CommonJS here (no "type": "module").
  {
    files: JS,
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonJsGlobals } },
  },

  // TypeScript everywhere: syntax-level rules.
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: TS })),
  {
    files: TS,
    languageOptions: {
      // Lets consistent-type-imports keep value imports that decorator metadata needs (Nest DI), also
      // where no type information is loaded.
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
  },

  // TypeScript in apps and libs: type-checked rules.
  ...tseslint.configs.recommendedTypeCheckedOnly.map((c) => ({ ...c, files: TYPED })),
  {
    files: TYPED,
    languageOptions: { parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: root } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },

  // Rules for all TypeScript.
  {
    files: TS,
    plugins: { baton },
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports', disallowTypeAnnotations: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      'baton/import-order': 'error',
      'no-duplicate-imports': 'off',
      'no-restricted-imports': ['error', restrictedImports],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  { files: JS, plugins: { baton }, rules: { 'baton/import-order': 'error' } },

  // Module boundaries between Nx projects.
  {
    files: [...TS, ...JS],
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': boundaries(false) },
  },
  { files: TESTS, rules: { '@nx/enforce-module-boundaries': boundaries(true) } },
  { files: ['libs/contracts/**'], rules: { 'no-restricted-imports': ['error', contractsRestrictedImports] } },
  { files: ['libs/persistence/**'], rules: { 'no-restricted-imports': 'off' } },

  // Tests: fakes, `any` from HTTP bodies and jest.fn() method references are fine.
  {
    files: TESTS,
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },

  prettier,
];
