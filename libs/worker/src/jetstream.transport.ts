import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';

import type { PublishHeaders } from './result.cache';
import type { TaskTransport } from './task.processor';

/** Publishes results and dead letters with JetStream, resolving on the PubAck. */
export class JetStreamTaskTransport implements TaskTransport {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  async publish(subject: string, payload: Uint8Array, msgId: string, headers: PublishHeaders): Promise<void> {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) h.append(name, v);
    }
    await this.js.publish(subject, payload, { msgID: msgId, headers: h, timeout: this.timeoutMs });
  }
}
