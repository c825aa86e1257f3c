import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import {
  type DeadLetterRecord,
  PROTOCOL_VERSION,
  Streams,
  Subjects,
  type TaskHeartbeat,
  type TaskMessage,
  type TaskResult,
  randomId,
  taskDurable,
} from '@baton/contracts';
import { waitFor } from '@baton/testing';

/** A result as the orchestrator receives it. */
export interface ReceivedResult {
  subject: string;
  headers: Record<string, string>;
  result: TaskResult;
}

/** A dead letter as read from BATON_DLQ. */
export interface ReceivedDeadLetter {
  subject: string;
  headers: Record<string, string>;
  record: DeadLetterRecord;
}

function headerRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h) for (const [k, v] of h) out[k] = v[0] ?? '';
  return out;
}

/**
 * Plays the orchestrator in integration tests: creates the streams the services would create, publishes
 * tasks the way the orchestrator does and collects the results workers publish to BATON_ORCH.
 */
export class OrchestratorFixture {
  readonly results: ReceivedResult[] = [];
  /** TaskHeartbeats workers published (`baton.orch.heartbeat.<executionId>`). */
  readonly heartbeats: { subject: string; heartbeat: TaskHeartbeat }[] = [];
  readonly deadLetters: ReceivedDeadLetter[] = [];
  private readonly readers: ConsumerMessages[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly js: JetStreamClient,
    readonly executionId: string,
  ) {}

  static async start(url: string): Promise<OrchestratorFixture> {
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc);
    await OrchestratorFixture.createStreams(jsm);
    const fixture = new OrchestratorFixture(nc, jsm, jetstream(nc), `exec-${randomId().slice(0, 10)}`);
    await fixture.startReaders();
    return fixture;
  }

  /** BATON_TASKS and BATON_ORCH (work queues) and BATON_DLQ, as the services create them. */
  static async createStreams(jsm: JetStreamManager): Promise<void> {
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
    await jsm.streams.add({ name: Streams.DLQ, subjects: [Subjects.dlqAll] });
  }

  private async startReaders(): Promise<void> {
    await this.jsm.consumers.add(Streams.ORCH, {
      durable_name: 'orchestrator',
      ack_policy: AckPolicy.Explicit,
      filter_subject: Subjects.orchAll,
    });
    await this.jsm.consumers.add(Streams.DLQ, { durable_name: 'test-dlq', ack_policy: AckPolicy.Explicit });
    const results = await (
      await this.js.consumers.get(Streams.ORCH, 'orchestrator')
    ).consume({
      callback: (m) => {
        if (m.subject.startsWith('baton.orch.heartbeat.')) {
          this.heartbeats.push({ subject: m.subject, heartbeat: m.json<TaskHeartbeat>() });
          m.ack();
          return;
        }
        this.results.push({
          subject: m.subject,
          headers: headerRecord(m.headers),
          result: m.json<TaskResult>(),
        });
        m.ack();
      },
    });
    const dlq = await (
      await this.js.consumers.get(Streams.DLQ, 'test-dlq')
    ).consume({
      callback: (m) => {
        this.deadLetters.push({
          subject: m.subject,
          headers: headerRecord(m.headers),
          record: m.json<DeadLetterRecord>(),
        });
        m.ack();
      },
    });
    this.readers.push(results, dlq);
  }

  /** A task message for `action`, as the orchestrator would publish it. */
  task(
    action: string,
    stepId: string,
    input: unknown = {},
    overrides: Partial<TaskMessage> = {},
  ): TaskMessage {
    const attempt = overrides.attempt ?? 1;
    return {
      protocol: PROTOCOL_VERSION,
      taskId: `${this.executionId}.${stepId}.${attempt}`,
      executionId: this.executionId,
      workflowId: 'order-fulfillment',
      workflowVersion: 1,
      stepId,
      attempt,
      action,
      input,
      idempotencyKey: `${this.executionId}:${stepId}`,
      replyTo: Subjects.result(this.executionId),
      token: `tok-${stepId}`,
      scheduledAt: new Date().toISOString(),
      ...overrides,
    };
  }

  /** Publishes a task to `baton.tasks.<action>` with `Nats-Msg-Id: task:<taskId>` and extra headers. */
  async publishTask(task: TaskMessage, extraHeaders: Record<string, string> = {}): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(extraHeaders)) h.set(k, v);
    await this.js.publish(Subjects.task(task.action), JSON.stringify(task), {
      msgID: `task:${task.taskId}`,
      headers: h,
    });
  }

  /** Publishes arbitrary bytes as a task of `action`. */
  async publishRaw(
    action: string,
    data: string | Uint8Array,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(extraHeaders)) h.set(k, v);
    await this.js.publish(Subjects.task(action), data, { headers: h });
  }

  resultsFor(taskId: string): ReceivedResult[] {
    return this.results.filter((r) => r.result.taskId === taskId);
  }

  /** Awaits the first result of `taskId`. */
  async resultOf(taskId: string, timeoutMs = 30_000): Promise<ReceivedResult> {
    return waitFor(() => this.resultsFor(taskId)[0], { what: `the result of ${taskId}`, timeoutMs });
  }

  /** Awaits at least `n` results. */
  async awaitResults(n: number, timeoutMs = 60_000): Promise<ReceivedResult[]> {
    return waitFor(() => this.results.length >= n && this.results, { what: `${n} results`, timeoutMs });
  }

  consumerInfo(action: string) {
    return this.jsm.consumers.info(Streams.TASKS, taskDurable(action));
  }

  async close(): Promise<void> {
    for (const reader of this.readers) await reader.close();
    await this.nc.close();
  }
}
