import { Registry } from 'prom-client';

import { registerConsumerLagGauges } from './consumer-lag.collector';

describe('consumer lag gauges', () => {
  it('reads each consumer once per scrape and leaves out the unreadable ones', async () => {
    const registry = new Registry();
    const reads: string[] = [];
    registerConsumerLagGauges(
      registry,
      [
        { stream: 'BATON_ORCH', durable: 'orchestrator' },
        { stream: 'EVENTS', durable: 'orchestrator-triggers' },
      ],
      async (stream, durable) => {
        reads.push(durable);
        if (stream === 'EVENTS') throw new Error('consumer not found');
        return { num_pending: 42, num_ack_pending: 7, num_redelivered: 3, num_waiting: 1 };
      },
    );
    const text = await registry.metrics();
    expect(text).toContain('baton_consumer_pending_messages{stream="BATON_ORCH",durable="orchestrator"} 42');
    expect(text).toContain(
      'baton_consumer_ack_pending_messages{stream="BATON_ORCH",durable="orchestrator"} 7',
    );
    expect(text).toContain(
      'baton_consumer_redelivered_messages{stream="BATON_ORCH",durable="orchestrator"} 3',
    );
    expect(text).not.toContain('orchestrator-triggers"}');
    expect(reads.sort()).toEqual(['orchestrator', 'orchestrator-triggers']);
  });
});
