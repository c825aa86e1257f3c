import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import { Durables, Streams } from '@baton/contracts';

const SETTLE_TIMEOUT_MS = 120_000;

/** Waits until the projections' history consumers have nothing pending or unacknowledged. */
export async function settled(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const infos = await Promise.all(
      [Durables.STATE_STORE_HISTORY, Durables.TELEMETRY_HISTORY].map((durable) =>
        jsm.consumers.info(Streams.HISTORY, durable),
      ),
    );
    if (infos.every((i) => i.num_pending === 0 && i.num_ack_pending === 0)) return;
    if (Date.now() > deadline)
      throw new Error('the projections did not catch up with the history published so far');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
