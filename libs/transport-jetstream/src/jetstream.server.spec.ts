import { JETSTREAM_EXTRAS_KEY, consumerPattern } from './jetstream-consumer.decorator';
import { JetStreamServer } from './jetstream.server';
import type { ConsumerOptions } from './consumer-options';

describe('JetStreamServer consumer overrides', () => {
  const options: ConsumerOptions = {
    stream: 'BATON_ORCH',
    durable: 'orchestrator',
    filterSubject: 'baton.orch.>',
    concurrency: 16,
    ackWaitMs: 10_000,
  };
  const register = (server: JetStreamServer, opts: ConsumerOptions) =>
    server.addHandler(consumerPattern(opts), async () => undefined, true, { [JETSTREAM_EXTRAS_KEY]: opts });

  it('replaces the decorator settings of the named durable only', () => {
    const server = new JetStreamServer({
      connection: () => {
        throw new Error('not connected in this test');
      },
      consumerOverrides: { orchestrator: { concurrency: 512 }, other: { concurrency: 1 } },
    });
    register(server, options);
    register(server, { ...options, durable: 'second', filterSubject: 'baton.orch.x' });
    const [first, second] = server.consumers();
    expect(first).toMatchObject({ durable: 'orchestrator', concurrency: 512, ackWaitMs: 10_000 });
    expect(second).toMatchObject({ durable: 'second', concurrency: 16 });
  });
});
