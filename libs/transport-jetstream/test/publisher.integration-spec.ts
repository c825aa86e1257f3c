import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import { type NatsServerHandle, startNatsServer } from '@baton/testing';

import { connectNats } from '../src/connection';
import { JetStreamPublisher } from '../src/jetstream.publisher';
import { ensureStreams } from '../src/topology';

let nats: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ servers: nats.url, name: 'publisher-test' });
  await ensureStreams(nc, [{ name: 'PUB', subjects: ['pub.>'], retention: 'limits' }]);
});

afterAll(async () => {
  await nc?.close();
  await nats?.cleanup();
});

async function count(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info('PUB')).state.messages;
}

describe('JetStreamPublisher', () => {
  it('stores one message for two publishes with the same msgId and reports the second as duplicate', async () => {
    const publisher = new JetStreamPublisher(nc);
    const before = await count();
    const a = await publisher.publish('pub.a', { n: 1 }, { msgId: 'same' });
    const b = await publisher.publish('pub.a', { n: 1 }, { msgId: 'same' });
    expect(a).toEqual({ stream: 'PUB', seq: a.seq, duplicate: false });
    expect(b).toEqual({ stream: 'PUB', seq: a.seq, duplicate: true });
    expect(await count()).toBe(before + 1);

    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage('PUB', { seq: a.seq });
    expect(stored?.json()).toEqual({ n: 1 });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('same');
  });

  it('publishes raw bytes with headers', async () => {
    const publisher = new JetStreamPublisher(nc);
    const ack = await publisher.publishRaw('pub.raw', new Uint8Array([1, 2, 3]), {
      headers: { 'Baton-Execution-Id': 'e1' },
    });
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage('PUB', { seq: ack.seq });
    expect(Array.from(stored?.data ?? [])).toEqual([1, 2, 3]);
    expect(stored?.header.get('Baton-Execution-Id')).toBe('e1');
  });

  it('rides out a server restart by retrying with the same msgId, storing the message once', async () => {
    const publisher = new JetStreamPublisher(nc, { maxAttempts: 10, retryDelayMs: 200 });
    const before = await count();
    await nats.stop();
    const pending = publisher.publish(
      'pub.restart',
      { n: 2 },
      { msgId: 'through-restart', timeoutMs: 2_000 },
    );
    await nats.restart();
    const ack = await pending;
    expect(ack.stream).toBe('PUB');
    expect(await count()).toBe(before + 1);
    const again = await publisher.publish('pub.restart', { n: 2 }, { msgId: 'through-restart' });
    expect(again).toEqual({ stream: 'PUB', seq: ack.seq, duplicate: true });
  });
});
