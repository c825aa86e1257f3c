/**
 * The floor: a plain JetStream chain of 5 hops (publish, durable consume, ack, publish next) with the same
 * client library, server and machine as Baton, measured in the same run.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { percentiles } from './stats';
import type { Figures } from './stats';

const HOPS = 5;

export async function measureFloor(
  url: string,
  opts: { chains: number; inFlight: number; latencySamples: number },
): Promise<Figures> {
  const nc = await connect({ servers: url, name: 'bench-floor' });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: 'BENCH_FLOOR', subjects: ['floor.>'] });
  const waiters = new Map<string, () => void>();
  const loops: ConsumerMessages[] = [];
  for (let hop = 1; hop <= HOPS; hop++) {
    const durable = `floor_${hop}`;
    await jsm.consumers.add('BENCH_FLOOR', {
      durable_name: durable,
      filter_subject: `floor.${hop}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 1000,
    });
    const consumer = await js.consumers.get('BENCH_FLOOR', durable);
    const messages = await consumer.consume({ max_messages: 256 });
    loops.push(messages);
    void (async () => {
      for await (const m of messages) {
        const id = m.string();
        if (hop < HOPS) {
          void js.publish(`floor.${hop + 1}`, id, { msgID: `${id}:${hop + 1}` }).then(() => m.ack());
        } else {
          m.ack();
          waiters.get(id)?.();
        }
      }
    })();
  }
  let n = 0;
  const chain = () =>
    new Promise<number>((resolve) => {
      const id = `c${n++}`;
      const start = performance.now();
      waiters.set(id, () => {
        waiters.delete(id);
        resolve(performance.now() - start);
      });
      void js.publish('floor.1', id, { msgID: `${id}:1` });
    });

  for (let i = 0; i < 50; i++) await chain();
  const latencies: number[] = [];
  for (let i = 0; i < opts.latencySamples; i++) latencies.push(await chain());

  const started = performance.now();
  let launched = 0;
  await Promise.all(
    Array.from({ length: opts.inFlight }, async () => {
      while (launched < opts.chains) {
        launched++;
        await chain();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const loop of loops) await loop.close();
  await jsm.streams.delete('BENCH_FLOOR');
  await nc.close();
  return {
    workflowsPerSec: opts.chains / seconds,
    stepsPerSec: (opts.chains * HOPS) / seconds,
    ...percentiles(latencies),
  };
}
