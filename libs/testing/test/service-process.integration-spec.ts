import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import {
  buildServiceForTest,
  getFreePort,
  startServiceProcess,
  stopServiceProcesses,
  waitForServiceNotReady,
  waitForServiceReady,
} from '../src';

/** A stand-in service: `/health/ready` answers 200 when READY=yes, else 503. */
const HEALTH_SERVER = `
const http = require('node:http');
const ready = process.env.READY === 'yes';
http
  .createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.statusCode = ready ? 200 : 503;
    res.end(JSON.stringify(ready
      ? { details: { self: { status: 'up' } } }
      : { error: { code: 'UNAVAILABLE', message: 'not ready: self' } }));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('service processes', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-service-process-'));
    await writeFile(
      join(dir, 'exit.js'),
      `process.stdout.write('out:' + process.env.GREETING + ':' + (process.env.HOME ?? 'none'));
       process.stderr.write('err:' + process.cwd());
       process.exitCode = 3;`,
    );
    await writeFile(join(dir, 'health.js'), HEALTH_SERVER);
  });

  afterAll(async () => {
    await stopServiceProcesses();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs main.js with only PATH and the given env, from the repo root, and collects its output', async () => {
    const proc = startServiceProcess({ main: join(dir, 'exit.js'), env: { GREETING: 'hi' } });
    expect(await proc.exited).toBe(3);
    expect(proc.stdout()).toBe('out:hi:none');
    expect(proc.stderr()).toBe(`err:${join(__dirname, '../../..')}`);
    expect(() => proc.assertRunning()).toThrow(`exited 3: err:${join(__dirname, '../../..')}`);
  });

  it('awaits readiness (200) and unreadiness (503), and stopServiceProcesses kills what still runs', async () => {
    const [upPort, downPort] = [await getFreePort(), await getFreePort()];
    const up = startServiceProcess({
      main: join(dir, 'health.js'),
      env: { PORT: String(upPort), READY: 'yes' },
    });
    const down = startServiceProcess({ main: join(dir, 'health.js'), env: { PORT: String(downPort) } });

    const ready = await waitForServiceReady(up, `http://127.0.0.1:${upPort}`, 'the stand-in to be ready');
    expect(ready).toEqual({ details: { self: { status: 'up' } } });
    const notReady = await waitForServiceNotReady(`http://127.0.0.1:${downPort}`, 'the stand-in to refuse');
    expect(notReady).toEqual({ error: { code: 'UNAVAILABLE', message: 'not ready: self' } });
    expect(() => up.assertRunning()).not.toThrow();

    await stopServiceProcesses();
    expect(await up.exited).toBeNull();
    expect(await down.exited).toBeNull();
    expect([up.child.signalCode, down.child.signalCode]).toEqual(['SIGKILL', 'SIGKILL']);
  });
});

describe('buildServiceForTest', () => {
  it('compiles an app and its projects into tmp/, rewriting @baton aliases, and removes the build', async () => {
    const build = await buildServiceForTest('examples/order-worker', ['libs/contracts', 'libs/worker']);
    try {
      expect(basename(build.dir)).toMatch(/^order-worker-build-/);
      expect(build.dir.startsWith(join(__dirname, '../../../tmp/'))).toBe(true);
      expect(build.main).toBe(join(build.dir, 'examples/order-worker/src/main.js'));
      expect(build.mainOf('libs/worker')).toBe(join(build.dir, 'libs/worker/src/main.js'));
      expect(existsSync(join(build.dir, 'libs/contracts/src/index.js'))).toBe(true);
      const main = await readFile(build.main, 'utf8');
      expect(main).not.toContain('@baton/');
    } finally {
      await build.remove();
    }
    expect(existsSync(build.dir)).toBe(false);
  });
});
