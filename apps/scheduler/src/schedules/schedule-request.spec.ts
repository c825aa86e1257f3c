import { ErrorCode } from '@baton/contracts';

import { parseScheduleId, parseScheduleListQuery, parseScheduleRequest } from './schedule-request';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 500);

function pathsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    const e = err as { code: string; details?: { path: string }[] };
    expect(e.code).toBe(ErrorCode.VALIDATION_FAILED);
    return (e.details ?? []).map((d) => d.path);
  }
  throw new Error('expected a validation error');
}

describe('parseScheduleRequest', () => {
  it('fills defaults: UTC, overlap skip, not paused, the first fire after now', () => {
    const s = parseScheduleRequest({ workflowId: 'nightly', expression: ' * * * * * * ' }, NOW);
    expect(s).toMatchObject({
      workflowId: 'nightly',
      workflowVersion: null,
      expression: '* * * * * *',
      timezone: 'UTC',
      input: null,
      overlap: 'skip',
      paused: false,
      source: 'api',
      nextFireAt: new Date(Date.UTC(2026, 5, 1, 12, 0, 1)),
    });
    expect(s.id).toMatch(/^sched-/);
  });

  it('keeps the given fields', () => {
    const s = parseScheduleRequest(
      {
        id: 'daily-report',
        workflowId: 'report',
        workflowVersion: 3,
        expression: '0 9 * * 1-5',
        timezone: 'Europe/Berlin',
        input: { x: [1] },
        overlap: 'allow',
        paused: true,
      },
      NOW,
    );
    expect(s).toMatchObject({ id: 'daily-report', workflowVersion: 3, overlap: 'allow', paused: true });
    expect(s.nextFireAt).toEqual(new Date(Date.UTC(2026, 5, 2, 7, 0, 0)));
  });

  it.each([
    [{ workflowId: 'w', expression: '61 * * * *' }, ['/expression']],
    [{ workflowId: 'w', expression: '* * *' }, ['/expression']],
    [{ workflowId: 'w', expression: '0 0 30 2 *' }, ['/expression']],
    [{ workflowId: 'w', expression: '@hourly', timezone: 'Mars/Olympus' }, ['/timezone']],
    [{ workflowId: 'W!', expression: '@hourly' }, ['/workflowId']],
    [{ expression: '@hourly' }, ['/workflowId']],
    [{ workflowId: 'w' }, ['/expression']],
    [{ workflowId: 'w', expression: '@hourly', overlap: 'queue' }, ['/overlap']],
    [{ workflowId: 'w', expression: '@hourly', paused: 'yes' }, ['/paused']],
    [{ workflowId: 'w', expression: '@hourly', workflowVersion: 0 }, ['/workflowVersion']],
    [{ workflowId: 'w', expression: '@hourly', id: 'wf-w-0' }, ['/id']],
    [{ workflowId: 'w', expression: '@hourly', id: 'a.b' }, ['/id']],
    [{ workflowId: 'w', expression: '@hourly', cron: 'x', subject: 'y' }, ['/cron', '/subject']],
  ])('rejects %j naming %j', (body, paths) => {
    expect(pathsOf(() => parseScheduleRequest(body, NOW)).sort()).toEqual([...paths].sort());
  });

  it('rejects a body that is not an object', () => {
    expect(pathsOf(() => parseScheduleRequest([1], NOW))).toEqual(['']);
  });
});

describe('parseScheduleId / parseScheduleListQuery', () => {
  it('checks ids and queries', () => {
    expect(parseScheduleId({ id: 'wf-nightly-0' })).toBe('wf-nightly-0');
    expect(pathsOf(() => parseScheduleId({}))).toEqual(['/id']);
    expect(parseScheduleListQuery({ workflowId: 'nightly', limit: '5' })).toEqual({
      workflowId: 'nightly',
      limit: 5,
    });
    expect(parseScheduleListQuery({})).toEqual({ limit: 1000 });
    expect(pathsOf(() => parseScheduleListQuery({ limit: '0', other: 1 })).sort()).toEqual([
      '/limit',
      '/other',
    ]);
  });
});
