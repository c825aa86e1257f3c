import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { Kvm } from '@nats-io/kv';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { KvBuckets, Streams, Subjects } from '@baton/contracts';
import type { RegisteredWorkflow, StartExecutionCommand } from '@baton/contracts';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, httpJson, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';

import { schedulerEnvSchema } from '../src/config/scheduler.config';
import { SCHEDULER_STREAMS, SchedulerModule } from '../src/scheduler.module';
import { SCHEDULER_SERVICE } from '../src/service.descriptor';

const silent = () => new Writable({ write: (_chunk, _enc, cb) => cb() });

describe('scheduler schedules (integration: own nats-server and database)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let nc: NatsConnection;
  let app: INestApplication;
  let base: string;

  const http = (method: string, path: string, body?: unknown) => httpJson(base, method, path, body);

  /** Start commands taken from BATON_ORCH for one workflow, as they arrive. */
  async function startCommands(workflowId: string): Promise<{ msgs: JsMsg[]; stop: () => Promise<void> }> {
    const jsm = await jetstreamManager(nc);
    const ci = await jsm.consumers.add(Streams.ORCH, {
      durable_name: `it-${workflowId}`,
      filter_subject: Subjects.start(workflowId),
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
    });
    const consumer = await jetstream(nc).consumers.get(Streams.ORCH, ci.name);
    const messages = await consumer.consume();
    const msgs: JsMsg[] = [];
    void (async () => {
      for await (const m of messages) {
        msgs.push(m);
        m.ack();
      }
    })();
    return { msgs, stop: async () => void (await messages.close()) };
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    nc = await connect({ servers: nats.url });
    const port = await getFreePort();
    const config = loadConfig(schedulerEnvSchema, {
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      BATON_SCHEDULE_POLL_INTERVAL_MS: '200',
    });
    app = await bootstrapService({
      service: { ...SCHEDULER_SERVICE },
      module: SchedulerModule,
      config,
      streams: SCHEDULER_STREAMS,
      transport: true,
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination: silent(),
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  it('publishes start commands with deterministic ids; overlap skip waits for the completion notification', async () => {
    const starts = await startCommands('it-cron');
    const created = await http('POST', '/v1/schedules', {
      id: 'it-skip',
      workflowId: 'it-cron',
      expression: '* * * * * *',
      input: { n: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ overlap: 'skip', source: 'api' });

    await waitFor(() => (starts.msgs.length >= 1 ? true : undefined), { what: 'a start command' });
    const first = starts.msgs[0];
    const command = first.json<StartExecutionCommand>();
    expect(command).toMatchObject({
      kind: 'start',
      workflowId: 'it-cron',
      input: { n: 1 },
      cause: 'cron:it-skip',
      executionId: expect.stringMatching(/^cron-/),
    });
    expect(first.headers?.get('Nats-Msg-Id')).toBe(`start:${command.executionId}`);
    expect(Date.parse(command.requestedAt) % 1000).toBe(0);

    const running = await waitFor(
      async () => {
        const v = await http('GET', '/v1/schedules/it-skip');
        return v.body.runningExecutionId === command.executionId ? v.body : undefined;
      },
      { what: 'the execution tracked as running' },
    );
    expect(running.lastExecutionId).toBe(command.executionId);

    // While it runs, fires are skipped (counted), not started.
    await waitFor(
      async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return /baton_schedule_fires_total\{[^}]*outcome="skipped"[^}]*\} [1-9]/.test(text)
          ? true
          : undefined;
      },
      { what: 'a skipped fire' },
    );
    expect(starts.msgs).toHaveLength(1);

    // The orchestrator's completion notification releases it, and it fires again.
    await jetstream(nc).publish(
      Subjects.executionFinished('it-cron', 'completed'),
      JSON.stringify({
        executionId: command.executionId,
        workflowId: 'it-cron',
        version: 1,
        status: 'COMPLETED',
      }),
    );
    await waitFor(() => (starts.msgs.length >= 2 ? true : undefined), { what: 'a second start command' });
    const second = starts.msgs[1].json<StartExecutionCommand>();
    expect(second.executionId).not.toBe(command.executionId);
    expect(Date.parse(second.requestedAt)).toBeGreaterThan(Date.parse(command.requestedAt));

    await http('DELETE', '/v1/schedules/it-skip');
    await starts.stop();
  });

  it('answers the NATS mirrors: create, list, pause, resume, delete; 422 names the field', async () => {
    const reply = async (name: string, body: unknown) => {
      const msg = await nc.request(`baton.api.scheduler.${name}`, JSON.stringify(body), { timeout: 5_000 });
      return {
        code: msg.headers?.get('Nats-Service-Error-Code') ?? '',
        body: msg.json<Record<string, unknown>>(),
      };
    };
    const created = await reply('schedules.create', {
      id: 'it-nats',
      workflowId: 'it-other',
      expression: '@daily',
      timezone: 'America/New_York',
      paused: true,
    });
    expect(created).toMatchObject({ code: '', body: { id: 'it-nats', paused: true } });
    expect((await reply('schedules.list', { workflowId: 'it-other' })).body).toMatchObject({
      items: [expect.objectContaining({ id: 'it-nats' })],
    });
    expect((await reply('schedules.resume', { id: 'it-nats' })).body).toMatchObject({ paused: false });
    expect((await reply('schedules.pause', { id: 'it-nats' })).body).toMatchObject({ paused: true });
    expect((await reply('schedules.delete', { id: 'it-nats' })).body).toMatchObject({ id: 'it-nats' });
    expect((await reply('schedules.get', { id: 'it-nats' })).code).toBe('404');
    const bad = await reply('schedules.create', { workflowId: 'it-other', expression: 'every day' });
    expect(bad.code).toBe('422');
    expect(JSON.stringify(bad.body)).toContain('/expression');
  });

  it('turns the cron triggers of definitions in baton_workflows into schedules, and removes them on delete', async () => {
    const kv = await new Kvm(nc).create(KvBuckets.WORKFLOWS, { history: 5 });
    const workflow = (version: number, deleted = false): RegisteredWorkflow => ({
      definition: {
        id: 'it-def',
        version,
        triggers: [
          { type: 'cron', expression: version === 1 ? '0 * * * *' : '30 * * * *', timezone: 'Asia/Tokyo' },
        ],
        steps: [{ id: 'a', type: 'task', action: 'it.a' }],
      },
      registeredAt: new Date().toISOString(),
      digest: `d${version}`,
      ...(deleted ? { deleted } : {}),
    });
    await kv.put('it-def.1', JSON.stringify(workflow(1)));
    const v1 = await waitFor(
      async () => {
        const res = await http('GET', '/v1/schedules/wf-it-def-0');
        return res.status === 200 ? res.body : undefined;
      },
      { what: 'schedule wf-it-def-0' },
    );
    expect(v1).toMatchObject({
      source: 'definition',
      workflowVersion: 1,
      expression: '0 * * * *',
      timezone: 'Asia/Tokyo',
    });

    await kv.put('it-def.2', JSON.stringify(workflow(2)));
    await waitFor(
      async () => {
        const res = await http('GET', '/v1/schedules/wf-it-def-0');
        return res.body.workflowVersion === 2 ? res.body : undefined;
      },
      { what: 'schedule of version 2' },
    );

    await kv.put('it-def.1', JSON.stringify(workflow(1, true)));
    await kv.put('it-def.2', JSON.stringify(workflow(2, true)));
    await waitFor(
      async () => ((await http('GET', '/v1/schedules/wf-it-def-0')).status === 404 ? true : undefined),
      { what: 'schedules removed with the workflow' },
    );
  });
});
