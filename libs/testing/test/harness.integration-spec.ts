import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { transformSync } from '@swc/core';
import { Client } from 'pg';
import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '../src';

describe('libs/testing harness', () => {
  it('getFreePort returns a port that can be bound', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe('startNatsServer', () => {
    it('starts a JetStream-enabled server whose data survives stop, kill and restart', async () => {
      const nats = await startNatsServer();
      try {
        expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
        expect(existsSync(nats.storeDir)).toBe(true);
        const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
        try {
          const jsm = await jetstreamManager(nc);
          await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'] });
          await jsm.jetstream().publish('harness.one', 'x');

          await nats.stop();
          expect(nats.pid).toBeUndefined();
          await nats.restart();
          expect(nats.pid).toBeGreaterThan(0);
          const afterStop = await waitFor(() => jsm.streams.info('HARNESS').catch(() => undefined), {
            what: 'the stream after a graceful restart',
          });
          expect(afterStop.state.messages).toBe(1);

          await jsm.jetstream().publish('harness.two', 'y');
          await nats.kill();
          await nats.restart();
          const afterKill = await waitFor(() => jsm.streams.info('HARNESS').catch(() => undefined), {
            what: 'the stream after a crash and restart',
          });
          expect(afterKill.state.messages).toBe(2);
        } finally {
          await nc.close();
        }
      } finally {
        await nats.cleanup();
      }
      expect(existsSync(nats.storeDir)).toBe(false);
      expect(nats.pid).toBeUndefined();
      await nats.cleanup();
    });

    it('starts several servers side by side on distinct ports', async () => {
      const servers = await Promise.all([startNatsServer(), startNatsServer(), startNatsServer()]);
      try {
        expect(new Set(servers.map((s) => s.port)).size).toBe(3);
        expect(new Set(servers.map((s) => s.storeDir)).size).toBe(3);
      } finally {
        await Promise.all(servers.map((s) => s.cleanup()));
      }
    });

    it('kills its servers when the test process dies without cleaning up', async () => {
      // Run the harness in a separate Node process, compiled on the fly, then SIGKILL that process.
      const dir = await mkdtemp(join(tmpdir(), 'baton-harness-'));
      try {
        for (const file of ['free-port', 'nats-server']) {
          const source = await readFile(join(__dirname, '../src', `${file}.ts`), 'utf8');
          const { code } = transformSync(source, {
            filename: `${file}.ts`,
            swcrc: false,
            jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
            module: { type: 'commonjs' },
          });
          await writeFile(join(dir, `${file}.js`), code);
        }
        await writeFile(
          join(dir, 'main.js'),
          "require('./nats-server').startNatsServer().then((s) => console.log(JSON.stringify({ port: s.port, pid: s.pid, storeDir: s.storeDir })));\n" +
            'setInterval(() => undefined, 1000);\n',
        );
        const child = spawn(process.execPath, [join(dir, 'main.js')], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        const started = await waitFor(
          () =>
            out.includes('\n')
              ? (JSON.parse(out) as { port: number; pid: number; storeDir: string })
              : undefined,
          {
            what: 'the child to start a server',
          },
        );
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        await waitFor(() => !existsSync(`/proc/${started.pid}`), {
          what: 'the orphaned nats-server to be killed',
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('starts a server without JetStream when asked', async () => {
      const nats = await startNatsServer({ jetstream: false });
      const nc = await connect({ servers: nats.url });
      try {
        await expect(jetstreamManager(nc, { timeout: 2_000 })).rejects.toThrow(/jetstream/i);
      } finally {
        await nc.close();
        await nats.cleanup();
      }
    });
  });

  describe('createTestDatabase', () => {
    it('creates a usable database and drops it even with open connections', async () => {
      const db = await createTestDatabase();
      expect(db.name).toMatch(/^baton_test_[0-9a-f]{12}$/);
      expect(new URL(db.url).pathname).toBe(`/${db.name}`);
      const client = new Client({ connectionString: db.url });
      client.on('error', () => undefined);
      await client.connect();
      const res = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(res.rows[0]?.db).toBe(db.name);

      await db.drop();
      await db.drop();
      const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      try {
        const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
        expect(left.rowCount).toBe(0);
      } finally {
        await admin.end();
        await client.end().catch(() => undefined);
      }
    });
  });
});
