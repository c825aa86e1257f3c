import type { ScheduleView, WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { Stack } from './support/stack';
import { listExecutions } from './support/workflows';

/** A one-step workflow (an emit step: no worker needed), optionally with triggers. */
function tickWorkflow(
  id: string,
  version = 1,
  triggers: WorkflowDefinition['triggers'] = [],
): WorkflowDefinition {
  return {
    id,
    version,
    ...(triggers && triggers.length > 0 ? { triggers } : {}),
    steps: [
      {
        id: 'tick',
        type: 'emit',
        parameters: { subject: `events.${id}.tick`, payload: '{% $input %}' },
      },
    ],
  } as WorkflowDefinition;
}

interface ErrorBody {
  error: { code: string; details?: { path: string }[] };
}

/**
 * Cron schedules end to end: the scheduler's API (CRUD, pause/resume, 422s naming the field, the NATS
 * mirror), a seconds-level schedule starting executions through the orchestrator, and a definition's cron
 * trigger becoming a schedule that follows new versions and deletion.
 */
describe('scheduler: cron schedules', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ services: ['state-store', 'orchestrator', 'scheduler'] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('creates, lists, reads, pauses, resumes and deletes; 422 names the bad field; 404 when unknown', async () => {
    const created = await stack.http<ScheduleView>('scheduler', 'POST', '/v1/schedules', {
      id: 'crud-1',
      workflowId: 'crud-wf',
      expression: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      input: { report: 'daily' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'crud-1',
      workflowId: 'crud-wf',
      timezone: 'Europe/Berlin',
      overlap: 'skip',
      paused: false,
      source: 'api',
      input: { report: 'daily' },
      nextFireAt: expect.stringMatching(/T0[78]:00:00\.000Z$/),
    });
    // Repeating the same request returns it; the same id with other settings is a conflict.
    expect(
      (
        await stack.http('scheduler', 'POST', '/v1/schedules', {
          id: 'crud-1',
          workflowId: 'crud-wf',
          expression: '0 9 * * 1-5',
          timezone: 'Europe/Berlin',
          input: { report: 'daily' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await stack.http('scheduler', 'POST', '/v1/schedules', {
          id: 'crud-1',
          workflowId: 'crud-wf',
          expression: '@daily',
        })
      ).status,
    ).toBe(409);

    for (const [body, path] of [
      [{ workflowId: 'crud-wf', expression: '61 * * * *' }, '/expression'],
      [{ workflowId: 'crud-wf', expression: '@hourly', timezone: 'Mars/Olympus' }, '/timezone'],
      [{ workflowId: 'crud-wf', expression: '@hourly', every: 5 }, '/every'],
      [{ workflowId: 'crud-wf', expression: '@hourly', overlap: 'queue' }, '/overlap'],
    ] as const) {
      const res = await stack.http<ErrorBody>('scheduler', 'POST', '/v1/schedules', body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details?.map((d) => d.path)).toContain(path);
    }

    const list = await stack.http<{ items: ScheduleView[] }>(
      'scheduler',
      'GET',
      '/v1/schedules?workflowId=crud-wf',
    );
    expect(list.body.items.map((s) => s.id)).toEqual(['crud-1']);
    expect((await stack.http('scheduler', 'GET', '/v1/schedules/crud-1')).status).toBe(200);
    expect((await stack.http('scheduler', 'GET', '/v1/schedules/nope')).status).toBe(404);

    const paused = await stack.http<ScheduleView>('scheduler', 'POST', '/v1/schedules/crud-1/pause');
    expect(paused).toMatchObject({ status: 200, body: { paused: true } });
    const resumed = await stack.http<ScheduleView>('scheduler', 'POST', '/v1/schedules/crud-1/resume');
    expect(resumed).toMatchObject({ status: 200, body: { paused: false } });
    expect((await stack.http('scheduler', 'POST', '/v1/schedules/nope/pause')).status).toBe(404);

    // The NATS request-reply mirror answers the same.
    const nc = await stack.connection();
    const reply = await nc.request('baton.api.scheduler.schedules.get', JSON.stringify({ id: 'crud-1' }), {
      timeout: 5_000,
    });
    expect(reply.json<ScheduleView>()).toMatchObject({ id: 'crud-1', paused: false });

    expect((await stack.http('scheduler', 'DELETE', '/v1/schedules/crud-1')).status).toBe(200);
    expect((await stack.http('scheduler', 'GET', '/v1/schedules/crud-1')).status).toBe(404);
    expect((await stack.http('scheduler', 'DELETE', '/v1/schedules/crud-1')).status).toBe(404);
  });

  it('a seconds-level schedule (* * * * * *) starts executions, one per fire time, cause cron:<id>', async () => {
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', tickWorkflow('cron-api'))).status).toBe(
      201,
    );
    const created = await stack.http<ScheduleView>('scheduler', 'POST', '/v1/schedules', {
      id: 'every-second',
      workflowId: 'cron-api',
      expression: '* * * * * *',
      overlap: 'allow',
      input: { from: 'schedule' },
    });
    expect(created.status).toBe(201);
    const done = await waitFor(
      async () => {
        const all = await listExecutions(stack, 'cron-api');
        const completed = all.filter((e) => e.status === 'COMPLETED');
        return completed.length >= 3 ? completed : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'three executions started by the schedule' },
    );
    for (const e of done) expect(e.executionId).toMatch(/^cron-/);
    expect(new Set(done.map((e) => e.executionId)).size).toBe(done.length);

    const one = await stack.http<{ input: unknown; cause?: string; trigger?: string }>(
      'orchestrator',
      'GET',
      `/v1/executions/${done[0].executionId}`,
    );
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.body)).toContain('cron:every-second');
    expect(one.body.input).toEqual({ from: 'schedule' });

    const view = await stack.http<ScheduleView>('scheduler', 'GET', '/v1/schedules/every-second');
    expect(view.body.lastFireAt).not.toBeNull();
    expect(view.body.lastExecutionId).toMatch(/^cron-/);
    await stack.http('scheduler', 'DELETE', '/v1/schedules/every-second');
  });

  it('overlap skip: the schedule tracks its running execution and releases it when it completes', async () => {
    expect(
      (await stack.http('orchestrator', 'POST', '/v1/workflows', tickWorkflow('cron-skip'))).status,
    ).toBe(201);
    await stack.http('scheduler', 'POST', '/v1/schedules', {
      id: 'skip-second',
      workflowId: 'cron-skip',
      expression: '* * * * * *',
      overlap: 'skip',
    });
    // Executions keep starting: each completion releases the schedule for the next fire.
    await waitFor(
      async () => {
        const all = await listExecutions(stack, 'cron-skip');
        return all.filter((e) => e.status === 'COMPLETED').length >= 3 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'three executions of an overlap-skip schedule' },
    );
    await stack.http('scheduler', 'POST', '/v1/schedules/skip-second/pause');
    const released = await waitFor(
      async () => {
        const v = await stack.http<ScheduleView>('scheduler', 'GET', '/v1/schedules/skip-second');
        return v.body.runningExecutionId === null ? v.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the last execution released' },
    );
    expect(released.lastExecutionId).toMatch(/^cron-/);
  });

  it('a definition cron trigger becomes schedule wf-<id>-<index>, follows new versions, and goes with the workflow', async () => {
    const v1 = tickWorkflow('cron-def', 1, [
      { type: 'event', subject: 'events.cron-def.go' },
      { type: 'cron', expression: '* * * * * *', overlap: 'allow', input: { version: 1 } },
    ]);
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', v1)).status).toBe(201);
    const schedule = await waitFor(
      async () => {
        const res = await stack.http<ScheduleView>('scheduler', 'GET', '/v1/schedules/wf-cron-def-1');
        return res.status === 200 ? res.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'schedule wf-cron-def-1' },
    );
    expect(schedule).toMatchObject({ source: 'definition', workflowId: 'cron-def', workflowVersion: 1 });
    await waitFor(
      async () => {
        const all = await listExecutions(stack, 'cron-def');
        return all.filter((e) => e.status === 'COMPLETED').length >= 2 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'executions started by the definition trigger' },
    );
    // A definition's schedule is not deleted over the API: it follows the definition.
    expect((await stack.http('scheduler', 'DELETE', '/v1/schedules/wf-cron-def-1')).status).toBe(409);

    // Version 2 moves the trigger to index 0 with another expression: index 1 goes, index 0 comes.
    const v2 = tickWorkflow('cron-def', 2, [
      { type: 'cron', expression: '*/2 * * * * *', input: { version: 2 } },
    ]);
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', v2)).status).toBe(201);
    await waitFor(
      async () => {
        const list = await stack.http<{ items: ScheduleView[] }>(
          'scheduler',
          'GET',
          '/v1/schedules?workflowId=cron-def',
        );
        const items = list.body.items;
        return items.length === 1 && items[0].id === 'wf-cron-def-0' && items[0].workflowVersion === 2
          ? items
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the schedules of version 2 only' },
    );

    expect((await stack.http('orchestrator', 'DELETE', '/v1/workflows/cron-def')).status).toBeLessThan(300);
    await waitFor(
      async () => {
        const list = await stack.http<{ items: ScheduleView[] }>(
          'scheduler',
          'GET',
          '/v1/schedules?workflowId=cron-def',
        );
        return list.body.items.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'schedules removed with the workflow' },
    );
  });
});
