import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { AckPolicy, RetentionPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import {
  PROTOCOL_VERSION,
  Streams,
  Subjects,
  type TaskMessage,
  type TaskResult,
  randomId,
} from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Builds the example with SWC the way `nx build` does (into a private directory of the repo's tmp/),
 * runs it as a process against a private nats-server, plays the orchestrator, and stops it with SIGTERM.
 */
describe('examples/order-worker as a process', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let outDir: string;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    outDir = join(ROOT, 'tmp', `order-worker-${randomId().slice(0, 8)}`);
    mkdirSync(outDir, { recursive: true });
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'swc'),
      [
        'libs/contracts/src',
        'libs/worker/src',
        'examples/order-worker/src',
        '-d',
        outDir,
        '--config-file',
        '.swcrc',
        '-q',
      ],
      { cwd: ROOT },
    );
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: Streams.TASKS,
      subjects: [Subjects.tasksAll],
      retention: RetentionPolicy.Workqueue,
    });
    await jsm.streams.add({
      name: Streams.ORCH,
      subjects: [Subjects.orchAll],
      retention: RetentionPolicy.Workqueue,
    });
    await jsm.consumers.add(Streams.ORCH, { durable_name: 'orchestrator', ack_policy: AckPolicy.Explicit });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await nc?.close();
    await nats?.cleanup();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('handles every action of the order workflow and exits 0 on SIGTERM after draining', async () => {
    child = spawn(process.execPath, [join(outDir, 'examples/order-worker/src/main.js')], {
      cwd: ROOT,
      env: { ...process.env, NATS_URL: nats.url, WORKER_NAME: 'example-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    await waitFor(() => output.includes('"worker started"'), { what: 'the example to start' });

    const executionId = `exec-${randomId().slice(0, 8)}`;
    const js = jetstream(nc);
    const actions = [
      'inventory.reserve',
      'payments.charge',
      'warehouse.pack',
      'shipping.ship',
      'notify.email',
    ];
    for (const [i, action] of actions.entries()) {
      const stepId = `s${i}`;
      const task: TaskMessage = {
        protocol: PROTOCOL_VERSION,
        taskId: `${executionId}.${stepId}.1`,
        executionId,
        workflowId: 'order-fulfillment',
        workflowVersion: 1,
        stepId,
        attempt: 1,
        action,
        input: { orderId: 'o-42', total: 30, email: 'ada@example.com', items: [{ sku: 'A' }] },
        idempotencyKey: `${executionId}:${stepId}`,
        replyTo: Subjects.result(executionId),
        token: 'tok',
        scheduledAt: new Date().toISOString(),
      };
      await js.publish(Subjects.task(action), JSON.stringify(task), { msgID: `task:${task.taskId}` });
    }

    const consumer = await js.consumers.get(Streams.ORCH, 'orchestrator');
    const results: TaskResult[] = [];
    await waitFor(
      async () => {
        const m = await consumer.next({ expires: 1_000 });
        if (m) {
          results.push(m.json<TaskResult>());
          m.ack();
        }
        return results.length === actions.length;
      },
      { what: 'a result for every action' },
    );
    expect(results.every((r) => r.status === 'completed' && r.workerId === 'example-1')).toBe(true);
    const byStep = Object.fromEntries(results.map((r) => [r.stepId, r.output]));
    expect(byStep.s0).toMatchObject({ reservationId: expect.stringMatching(/^res_/), orderId: 'o-42' });
    expect(byStep.s1).toMatchObject({ chargeId: expect.stringMatching(/^ch_/), amount: 30 });
    expect(byStep.s4).toMatchObject({ to: 'ada@example.com' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"worker closed"');
  });
});
