import type { ServiceEndpoints } from '@baton/service-kit';

import type { SchedulesService } from './schedules/schedules.service';
import { SCHEDULER_ENDPOINTS, SchedulerEndpoints } from './scheduler.module';
import type { TimersService } from './timers/timers.service';
import type { WorkersService } from './workers/workers.service';

describe('SchedulerEndpoints', () => {
  it('mirrors every schedule, timer, worker and queue route on baton.api.scheduler.<name>', async () => {
    const handlers = new Map<string, (data: unknown) => Promise<unknown>>();
    const endpoints = {
      add: (name: string, h: (data: unknown) => Promise<unknown>) => handlers.set(name, h),
    };
    const calls: string[] = [];
    const record =
      (what: string) =>
      (data?: unknown): Promise<unknown> => {
        calls.push(`${what} ${JSON.stringify(data ?? null)}`);
        return Promise.resolve({});
      };
    const schedules = {
      create: record('create'),
      list: record('list'),
      get: record('get'),
      delete: record('delete'),
      pause: record('pause'),
      resume: record('resume'),
    } as unknown as SchedulesService;
    const timers = {
      create: record('t.create'),
      cancel: record('t.cancel'),
      get: record('t.get'),
    } as unknown as TimersService;
    const workers = {
      listWorkers: record('workers'),
      listQueues: record('queues'),
    } as unknown as WorkersService;
    new SchedulerEndpoints(
      endpoints as unknown as ServiceEndpoints,
      timers,
      schedules,
      workers,
    ).onModuleInit();

    expect([...handlers.keys()].sort()).toEqual(Object.values(SCHEDULER_ENDPOINTS).sort());
    expect(Object.values(SCHEDULER_ENDPOINTS)).toEqual(
      expect.arrayContaining([
        'schedules.create',
        'schedules.list',
        'schedules.get',
        'schedules.delete',
        'schedules.pause',
        'schedules.resume',
      ]),
    );
    await handlers.get('schedules.pause')?.({ id: 's1' });
    await handlers.get('schedules.list')?.(undefined);
    expect(calls).toEqual(['pause {"id":"s1"}', 'list {}']);
  });
});
