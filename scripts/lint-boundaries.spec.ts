/**
 * Proves the module boundaries of eslint.config.mjs: small sample files are linted through ESLint's Node
 * API as if they lived inside real projects of the workspace (virtual paths, nothing is written), and the
 * boundary rules must report exactly the illegal imports.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT, runEsm } from './testing/run-esm';

interface Project {
  name: string;
  root: string;
  tags: string[];
}

interface Sample {
  id: string;
  file: string;
  code: string;
}

interface LintMessage {
  ruleId: string | null;
  message: string;
}

const BOUNDARY_RULES = ['@nx/enforce-module-boundaries', 'no-restricted-imports'];

function readProjects(dir: string): Project[] {
  const abs = path.join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((name) => existsSync(path.join(abs, name, 'project.json')))
    .map((name) => {
      const json = JSON.parse(readFileSync(path.join(abs, name, 'project.json'), 'utf8')) as {
        name?: string;
        tags?: string[];
      };
      return { name: json.name ?? name, root: `${dir}/${name}`, tags: json.tags ?? [] };
    });
}

const apps = readProjects('apps');
const libs = readProjects('libs');
const examples = readProjects('examples');

function lib(name: string): Project {
  const found = libs.find((p) => p.root === `libs/${name}`);
  if (!found) throw new Error(`libs/${name}/project.json is missing`);
  return found;
}

/** Lints every sample through the real eslint.config.mjs, with only the boundary rules switched on. */
function lint(samples: Sample[]): Record<string, LintMessage[]> {
  const driver = `
    import path from 'node:path';
    import { ESLint } from 'eslint';
    const rules = new Set(${JSON.stringify(BOUNDARY_RULES)});
    const eslint = new ESLint({
      cwd: process.cwd(),
      ruleFilter: ({ ruleId }) => rules.has(ruleId),
      // The samples exist only in memory, so no TypeScript program can hold them: parse without types
      // (the boundary rules need none).
      overrideConfig: { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false, project: null } } },
    });
    const out = {};
    for (const s of __input) {
      const [result] = await eslint.lintText(s.code, { filePath: path.join(process.cwd(), s.file) });
      out[s.id] = result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message }));
    }
    console.log(JSON.stringify(out));
  `;
  return runEsm<Record<string, LintMessage[]>>(driver, samples, 120_000);
}

describe('module boundaries (eslint.config.mjs)', () => {
  const [appA, appB] = apps.filter((p) => p.tags.includes('type:app'));
  const aLib = libs.find((p) => p.tags.includes('type:lib'));

  let results: Record<string, LintMessage[]>;

  beforeAll(() => {
    if (!appA || !appB || !aLib) {
      throw new Error(
        'the workspace needs two type:app projects under apps/ and a type:lib project under libs/',
      );
    }
    const contracts = lib('contracts');
    lib('testing');
    lib('persistence');
    const samples: Sample[] = [
      {
        id: 'app imports another app',
        file: `${appA.root}/src/boundary-sample.ts`,
        code: `import { x } from '../../${path.basename(appB.root)}/src/main';\nexport const y = x;\n`,
      },
      {
        id: 'lib imports an app',
        file: `${aLib.root}/src/boundary-sample.ts`,
        code: `import { x } from '../../../apps/${path.basename(appA.root)}/src/main';\nexport const y = x;\n`,
      },
      {
        id: 'contracts import @nestjs/common',
        file: `${contracts.root}/src/boundary-sample.ts`,
        code: `import { Injectable } from '@nestjs/common';\nexport const y = Injectable;\n`,
      },
      {
        id: 'contracts import @nats-io/jetstream',
        file: `${contracts.root}/src/boundary-sample.ts`,
        code: `import { jetstream } from '@nats-io/jetstream';\nexport const y = jetstream;\n`,
      },
      {
        id: 'contracts import a lib',
        file: `${contracts.root}/src/boundary-sample.ts`,
        code: `import { x } from '@baton/${path.basename(aLib.root)}';\nexport const y = x;\n`,
      },
      {
        id: 'lib source imports the testing harness',
        file: `${aLib.root}/src/boundary-sample.ts`,
        code: `import { x } from '@baton/testing';\nexport const y = x;\n`,
      },
      {
        id: 'lib test imports the testing harness',
        file: `${aLib.root}/test/boundary-sample.integration-spec.ts`,
        code: `import { x } from '@baton/testing';\nexport const y = x;\n`,
      },
      {
        id: 'app imports typeorm',
        file: `${appA.root}/src/boundary-sample.ts`,
        code: `import { DataSource } from 'typeorm';\nexport const y = DataSource;\n`,
      },
      {
        id: 'persistence imports typeorm',
        file: `libs/persistence/src/boundary-sample.ts`,
        code: `import { DataSource } from 'typeorm';\nexport const y = DataSource;\n`,
      },
      {
        id: 'app imports contracts and a lib',
        file: `${appA.root}/src/boundary-sample.ts`,
        code:
          `import { Injectable } from '@nestjs/common';\nimport { Subjects } from '@baton/contracts';\n` +
          `import { x } from '@baton/${path.basename(aLib.root)}';\nexport const y = [Injectable, Subjects, x];\n`,
      },
    ];
    results = lint(samples);
  });

  const rulesOf = (id: string): (string | null)[] => results[id]!.map((m) => m.ruleId);

  it('reports an app importing another app', () => {
    expect(rulesOf('app imports another app')).toContain('@nx/enforce-module-boundaries');
  });

  it('reports a lib importing an app', () => {
    expect(rulesOf('lib imports an app')).toContain('@nx/enforce-module-boundaries');
  });

  it('reports contracts importing @nestjs/common or a NATS client', () => {
    expect(rulesOf('contracts import @nestjs/common')).toEqual(
      expect.arrayContaining(['no-restricted-imports', '@nx/enforce-module-boundaries']),
    );
    expect(rulesOf('contracts import @nats-io/jetstream')).toContain('no-restricted-imports');
  });

  it('reports contracts depending on any other project', () => {
    expect(rulesOf('contracts import a lib')).toContain('@nx/enforce-module-boundaries');
  });

  it('keeps the testing harness out of shipped code but allows it in tests', () => {
    expect(results['lib source imports the testing harness']!.map((m) => m.message).join('\n')).toMatch(
      /can only depend on libs tagged with/,
    );
    expect(results['lib test imports the testing harness']).toEqual([]);
  });

  it('allows typeorm in libs/persistence only', () => {
    expect(rulesOf('app imports typeorm')).toContain('no-restricted-imports');
    expect(results['persistence imports typeorm']).toEqual([]);
  });

  it('does not report legal imports', () => {
    expect(results['app imports contracts and a lib']).toEqual([]);
  });
});

describe('project tags', () => {
  const TYPES = ['type:app', 'type:contracts', 'type:lib', 'type:infra', 'type:sdk', 'type:testing'];
  const scopes = new Set([
    'scope:shared',
    ...[...apps, ...examples].map((p) => `scope:${path.basename(p.root)}`),
  ]);

  it.each([...apps, ...libs, ...examples].map((p) => [p.root, p] as const))(
    '%s has one type tag and one known scope tag',
    (_root, project) => {
      const types = project.tags.filter((t) => t.startsWith('type:'));
      const projectScopes = project.tags.filter((t) => t.startsWith('scope:'));
      expect(types).toHaveLength(1);
      expect(TYPES).toContain(types[0]);
      expect(projectScopes).toHaveLength(1);
      expect([...scopes]).toContain(projectScopes[0]);
    },
  );

  it.each(apps.map((p) => [p.root, p] as const))(
    '%s is tagged type:app and scope:<its name>',
    (_root, app) => {
      expect(app.tags).toEqual(expect.arrayContaining(['type:app', `scope:${path.basename(app.root)}`]));
    },
  );
});
