/** Fakes for unit tests of the task pipeline: deliveries and a transport that record what happens, in order. */
import { PROTOCOL_VERSION, type TaskMessage } from '@baton/contracts';

import type { PublishHeaders } from '../src/result.cache';
import type { HeaderMap, TaskDelivery } from '../src/task-delivery';
import type { TaskTransport } from '../src/task.processor';
import type { WorkerLogger } from '../src/worker.types';

export const quiet: WorkerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Records every acknowledgement and publication in one ordered log. */
export class Recorder {
  readonly events: string[] = [];
}

export class FakeDelivery implements TaskDelivery {
  readonly subject: string;
  readonly data: Uint8Array;
  workingCount = 0;

  constructor(
    private readonly recorder: Recorder,
    readonly name: string,
    body: unknown,
    readonly headers: HeaderMap = {},
    readonly streamSequence = 7,
    readonly deliveryCount = 1,
    subject = 'baton.tasks.payments.charge',
  ) {
    this.subject = subject;
    this.data = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  }

  ack(): void {
    this.recorder.events.push(`ack:${this.name}`);
  }
  nak(delayMs?: number): void {
    this.recorder.events.push(delayMs === undefined ? `nak:${this.name}` : `nak:${this.name}:${delayMs}`);
  }
  term(): void {
    this.recorder.events.push(`term:${this.name}`);
  }
  working(): void {
    this.workingCount++;
  }
}

export interface Published {
  subject: string;
  msgId: string;
  headers: PublishHeaders;
  body: unknown;
  payload: Uint8Array;
}

export class FakeTransport implements TaskTransport {
  readonly published: Published[] = [];
  failures = 0;
  gate: Promise<void> | undefined;

  constructor(private readonly recorder: Recorder) {}

  async publish(subject: string, payload: Uint8Array, msgId: string, headers: PublishHeaders): Promise<void> {
    this.recorder.events.push(`publish-start:${msgId}`);
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      this.recorder.events.push(`publish-failed:${msgId}`);
      throw new Error('no PubAck');
    }
    this.published.push({
      subject,
      msgId,
      headers,
      payload,
      body: JSON.parse(new TextDecoder().decode(payload)),
    });
    this.recorder.events.push(`puback:${msgId}`);
  }
}

export function task(overrides: Partial<TaskMessage> = {}): TaskMessage {
  return {
    protocol: PROTOCOL_VERSION,
    taskId: 'exec1.charge.1',
    executionId: 'exec1',
    workflowId: 'order-fulfillment',
    workflowVersion: 3,
    stepId: 'charge',
    attempt: 1,
    action: 'payments.charge',
    input: { amount: 42 },
    idempotencyKey: 'exec1:charge',
    replyTo: 'baton.orch.result.exec1',
    token: 'tok',
    scheduledAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Awaits a condition (polling); fails the test if it never holds. */
export async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !probe(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(probe()).toBe(true);
}
