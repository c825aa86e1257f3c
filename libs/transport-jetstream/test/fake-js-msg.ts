import type { JsMsg } from '@nats-io/jetstream';
import { type MsgHdrs, headers as createHeaders } from '@nats-io/nats-core';

/** What a fake message was told, in order. */
export type AckCall =
  | { kind: 'ack' }
  | { kind: 'nak'; delayMs: number | undefined }
  | { kind: 'term'; reason: string | undefined }
  | { kind: 'working' };

export interface FakeJsMsgInit {
  subject?: string;
  data?: string | Uint8Array;
  headers?: Record<string, string>;
  stream?: string;
  consumer?: string;
  deliveryCount?: number;
  streamSequence?: number;
}

/** A JsMsg stand-in that records acknowledgements, for unit tests of the outcome mapping. */
export class FakeJsMsg {
  readonly calls: AckCall[] = [];
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  readonly info: JsMsg['info'];
  private done = false;

  constructor(init: FakeJsMsgInit = {}) {
    this.subject = init.subject ?? 'baton.orch.result.exec-1';
    this.data =
      typeof init.data === 'string' || init.data === undefined
        ? new TextEncoder().encode(init.data ?? '{"hello":"world"}')
        : init.data;
    if (init.headers === undefined) {
      this.headers = undefined;
    } else {
      const h = createHeaders();
      for (const [k, v] of Object.entries(init.headers)) h.set(k, v);
      this.headers = h;
    }
    this.info = {
      domain: '',
      stream: init.stream ?? 'BATON_ORCH',
      consumer: init.consumer ?? 'orchestrator',
      deliveryCount: init.deliveryCount ?? 1,
      streamSequence: init.streamSequence ?? 42,
      deliverySequence: 7,
      timestampNanos: 0,
      pending: 0,
      redelivered: (init.deliveryCount ?? 1) > 1,
    };
  }

  get seq(): number {
    return this.info.streamSequence;
  }

  get redelivered(): boolean {
    return this.info.deliveryCount > 1;
  }

  ack(): void {
    this.final({ kind: 'ack' });
  }

  async ackAck(): Promise<boolean> {
    this.final({ kind: 'ack' });
    return true;
  }

  nak(delayMs?: number): void {
    this.final({ kind: 'nak', delayMs });
  }

  term(reason?: string): void {
    this.final({ kind: 'term', reason });
  }

  working(): void {
    if (!this.done) this.calls.push({ kind: 'working' });
  }

  json<T>(): T {
    return JSON.parse(new TextDecoder().decode(this.data)) as T;
  }

  string(): string {
    return new TextDecoder().decode(this.data);
  }

  /** Final acknowledgements (everything but working). */
  get outcomes(): AckCall[] {
    return this.calls.filter((c) => c.kind !== 'working');
  }

  asJsMsg(): JsMsg {
    return this as unknown as JsMsg;
  }

  private final(call: AckCall): void {
    if (this.done)
      throw new Error(`second acknowledgement ${call.kind} after ${JSON.stringify(this.outcomes)}`);
    this.done = true;
    this.calls.push(call);
  }
}
