import type { ServiceInfo, ServiceStats } from '@nats-io/services';

import { FORGET_DOWN_AFTER_MS, ServicesService } from './services.service';

const info = (name: string, id: string): ServiceInfo =>
  ({
    type: 'io.nats.micro.v1.info_response',
    name,
    id,
    version: '0.1.0',
    description: `${name} service`,
    endpoints: [{ name: 'executions-list', subject: `baton.api.${name}.executions.list` }],
  }) as ServiceInfo;

const stats = (name: string, id: string, requests: number, errors: number): ServiceStats =>
  ({
    type: 'io.nats.micro.v1.stats_response',
    name,
    id,
    version: '0.1.0',
    started: '2026-06-01T00:00:00.000Z',
    endpoints: [
      {
        name: 'executions-list',
        subject: `baton.api.${name}.executions.list`,
        num_requests: requests,
        num_errors: errors,
        last_error: errors > 0 ? 'NOT_FOUND: x' : '',
        processing_time: requests * 2_000_000,
        average_processing_time: 2_000_000,
      },
    ],
  }) as ServiceStats;

describe('ServicesService.merge (discovery rounds)', () => {
  const service = () => new ServicesService({} as never, { BATON_DISCOVERY_TIMEOUT_MS: 100 });
  const NOW = Date.UTC(2026, 5, 1);

  it('lists answering Baton instances as up with their endpoint stats, ignoring other services', () => {
    const items = service().merge(
      [info('baton-state-store', 'b'), info('baton-scheduler', 'a'), info('other-app', 'z')],
      [stats('baton-state-store', 'b', 5, 1)],
      NOW,
    );
    expect(items.map((i) => [i.name, i.id, i.health])).toEqual([
      ['baton-scheduler', 'a', 'up'],
      ['baton-state-store', 'b', 'up'],
    ]);
    expect(items[1]).toMatchObject({
      version: '0.1.0',
      stats: { requests: 5, errors: 1, processingMs: 10, started: '2026-06-01T00:00:00.000Z' },
      endpoints: [
        {
          name: 'executions-list',
          subject: 'baton.api.baton-state-store.executions.list',
          requests: 5,
          errors: 1,
          averageProcessingMs: 2,
          lastError: 'NOT_FOUND: x',
        },
      ],
      lastSeen: new Date(NOW).toISOString(),
    });
    // No stats reply in the round: listed up, without stats.
    expect(items[0].stats).toBeNull();
  });

  it('marks an instance that stopped answering down, then forgets it', () => {
    const s = service();
    s.merge([info('baton-state-store', 'b'), info('baton-telemetry', 't')], [], NOW);
    const later = s.merge([info('baton-telemetry', 't')], [], NOW + 1_000);
    expect(later.map((i) => [i.name, i.health, i.lastSeen])).toEqual([
      ['baton-state-store', 'down', new Date(NOW).toISOString()],
      ['baton-telemetry', 'up', new Date(NOW + 1_000).toISOString()],
    ]);
    const back = s.merge([info('baton-state-store', 'b'), info('baton-telemetry', 't')], [], NOW + 2_000);
    expect(back.map((i) => i.health)).toEqual(['up', 'up']);
    const gone = s.merge([info('baton-telemetry', 't')], [], NOW + 3_000 + FORGET_DOWN_AFTER_MS);
    expect(gone.map((i) => i.name)).toEqual(['baton-telemetry']);
  });
});
