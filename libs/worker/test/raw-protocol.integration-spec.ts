import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Headers, randomId } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

import { OrchestratorFixture } from './orchestrator.fixture';

const ROOT = join(__dirname, '..', '..', '..');

/** The plain-NATS worker of docs/workers.md §11, extracted from the page and run as written. */
function rawWorkerSource(): string {
  const page = readFileSync(join(ROOT, 'docs', 'workers.md'), 'utf8');
  const block = /```js\n(\/\/ raw-worker\.js[\s\S]*?)```/.exec(page);
  if (block === null) throw new Error('docs/workers.md has no raw-worker.js block');
  return block[1];
}

describe('docs/workers.md: the plain NATS worker', () => {
  let nats: NatsServerHandle;
  let orch: OrchestratorFixture;
  let child: ChildProcess | undefined;
  const dir = join(ROOT, 'tmp', `raw-worker-${randomId().slice(0, 8)}`);

  beforeAll(async () => {
    nats = await startNatsServer();
    orch = await OrchestratorFixture.start(nats.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'raw-worker.js'), rawWorkerSource());
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await orch?.close();
    await nats?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds the consumer, reports results before acking, and follows the protocol', async () => {
    let output = '';
    child = spawn(process.execPath, [join(dir, 'raw-worker.js')], {
      cwd: dir,
      env: { ...process.env, NATS_URL: nats.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    const info = await waitFor(() => orch.consumerInfo('inventory.reserve').catch(() => undefined), {
      what: `the raw worker to create its consumer (output: ${output})`,
    });
    expect(info.config).toMatchObject({
      ack_policy: 'explicit',
      max_deliver: -1,
      filter_subject: 'baton.tasks.inventory.reserve',
    });

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const tasks = [
      orch.task('inventory.reserve', 'r1', { orderId: 'o1' }),
      orch.task('inventory.reserve', 'r2', {}, { itemIndex: 1 }),
    ];
    for (const t of tasks) await orch.publishTask(t, { [Headers.TRACEPARENT]: traceparent });

    for (const t of tasks) {
      const received = await orch.resultOf(t.taskId);
      expect(received.headers[Headers.MSG_ID]).toBe(`result:${t.taskId}`);
      expect(received.headers[Headers.TRACEPARENT]).toBe(traceparent);
      expect(received.result).toMatchObject({
        protocol: 1,
        taskId: t.taskId,
        stepId: t.stepId,
        attempt: 1,
        status: 'completed',
        output: { reservationId: `res-${t.idempotencyKey}` },
      });
    }
    expect(orch.resultsFor(tasks[1]?.taskId ?? '')[0]?.result.itemIndex).toBe(1);
    await waitFor(async () => (await orch.consumerInfo('inventory.reserve')).num_ack_pending === 0, {
      what: 'the tasks to be acked',
    });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
