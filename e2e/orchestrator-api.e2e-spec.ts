import { createInbox } from '@nats-io/nats-core';

import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { metricValue } from './support/metrics';
import { Stack } from './support/stack';
import { listExecutions, waitForTerminal } from './support/workflows';

/** The orchestrator's HTTP and request-reply surface: definitions, human tasks, failures, discovery. */
describe('orchestrator API', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({
      actions: ['api.prepare'],
      failActions: ['api.broken'],
      asyncActions: ['api.approve'],
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const approval = (version: number): WorkflowDefinition => ({
    id: 'approval',
    name: 'Approval by a person',
    version,
    triggers: [{ type: 'event', subject: 'events.approval.requested' }],
    output: '{% $steps.approve.output %}',
    steps: [
      { id: 'prepare', type: 'task', action: 'api.prepare' },
      { id: 'approve', type: 'task', action: 'api.approve', dependencies: ['prepare'] },
    ],
  });

  const tokenOf = async (executionId: string): Promise<string> =>
    waitFor(() => stack.effects().find((e) => e.key === `${executionId}:approve` && e.token)?.token, {
      what: `token of ${executionId}`,
    });

  it('lists, reads, versions and deletes definitions', async () => {
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', approval(1))).status).toBe(201);
    const yaml = [
      'id: approval',
      'name: Approval by a person',
      'version: 2',
      'triggers: [{ type: event, subject: events.approval.requested }]',
      "output: '{% $steps.approve.output %}'",
      'steps:',
      '  - { id: prepare, type: task, action: api.prepare }',
      '  - { id: approve, type: task, action: api.approve, dependencies: [prepare] }',
    ].join('\n');
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', yaml, 'application/yaml')).status).toBe(
      201,
    );
    // The same document in JSON is the same definition.
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', approval(2))).status).toBe(200);

    const list = await stack.http<{ items: { definition: WorkflowDefinition }[] }>(
      'orchestrator',
      'GET',
      '/v1/workflows',
    );
    expect(list.body.items.map((w) => [w.definition.id, w.definition.version])).toEqual([['approval', 2]]);
    const latest = await stack.http<{ definition: WorkflowDefinition; versions: number[] }>(
      'orchestrator',
      'GET',
      '/v1/workflows/approval',
    );
    expect(latest.body.versions).toEqual([1, 2]);
    const v1 = await stack.http<{ definition: WorkflowDefinition }>(
      'orchestrator',
      'GET',
      '/v1/workflows/approval/versions/1',
    );
    expect(v1.body.definition.version).toBe(1);
    expect((await stack.http('orchestrator', 'GET', '/v1/workflows/approval/versions/9')).status).toBe(404);
    expect((await stack.http('orchestrator', 'GET', '/v1/workflows/BAD_ID')).status).toBe(400);

    const unsupported = await stack.http<{ error: { details: { path: string; rule: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/workflows',
      {
        id: 'later',
        version: 1,
        steps: [
          { id: 'fan', type: 'parallel', action: 'a.b', parameters: { items: [1, 2] } },
          { id: 'child', type: 'subworkflow', action: 'approval', dependencies: ['fan'] },
        ],
      },
    );
    expect(unsupported.status).toBe(422);
    expect(unsupported.body.error.details.map((d) => [d.path, d.rule])).toEqual(
      expect.arrayContaining([
        ['/steps/0/type', 'unsupportedStepType'],
        ['/steps/1/type', 'unsupportedStepType'],
      ]),
    );
  });

  it('completes a task for a person with the token carried in the task; old and unknown tokens are refused', async () => {
    const started = await stack.http<{ executionId: string }>(
      'orchestrator',
      'POST',
      '/v1/workflows/approval/executions',
      {
        executionId: 'approve-1',
        input: { amount: 5 },
      },
    );
    expect(started.status).toBe(202);
    const token = await tokenOf('approve-1');
    const live = await stack.http<{ status: string; steps: Record<string, { status: string }> }>(
      'orchestrator',
      'GET',
      '/v1/executions/approve-1',
    );
    expect(live.body.steps['approve']?.status).toBe('SCHEDULED');

    const done = await stack.http('orchestrator', 'POST', `/v1/tasks/${token}/complete`, {
      output: { approvedBy: 'ana' },
    });
    expect(done.status).toBe(202);
    const finished = await waitFor(
      async () => {
        const res = await stack.http<{ status: string; output: unknown }>(
          'orchestrator',
          'GET',
          '/v1/executions/approve-1',
        );
        return res.body.status === 'COMPLETED' ? res.body : undefined;
      },
      { what: 'approve-1 completed' },
    );
    expect(finished.output).toEqual({ approvedBy: 'ana' });

    const again = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      `/v1/tasks/${token}/complete`,
      {
        output: {},
      },
    );
    expect(again.status).toBe(409);
    const forged = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      '/v1/tasks/not-a-real-token/complete',
      {},
    );
    expect(forged.status).toBe(404);
    const malformed = await stack.http('orchestrator', 'POST', `/v1/tasks/${token}/fail`, {
      error: { message: 'no type' },
    });
    expect(malformed.status).toBe(422);
  });

  it('fails a task for a person, and a worker failure fails the step and the execution', async () => {
    await stack.http('orchestrator', 'POST', '/v1/workflows/approval/executions', {
      executionId: 'approve-2',
    });
    const token = await tokenOf('approve-2');
    const failed = await stack.http('orchestrator', 'POST', `/v1/tasks/${token}/fail`, {
      error: { type: 'Rejected', message: 'not this time' },
    });
    expect(failed.status).toBe(202);
    await waitFor(
      async () => {
        const res = await stack.http<{ status: string; error?: { type: string; stepId: string } }>(
          'orchestrator',
          'GET',
          '/v1/executions/approve-2',
        );
        return res.body.status === 'FAILED' &&
          res.body.error?.type === 'Rejected' &&
          res.body.error.stepId === 'approve'
          ? true
          : undefined;
      },
      { what: 'approve-2 failed by the person' },
    );

    const broken: WorkflowDefinition = {
      id: 'broken',
      version: 1,
      triggers: [{ type: 'event', subject: 'events.broken.requested' }],
      steps: [{ id: 'only', type: 'task', action: 'api.broken' }],
    };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', broken)).status).toBe(201);
    const js = await stack.js();
    await js.publish('events.broken.requested', JSON.stringify({ n: 1 }), { msgID: 'broken-1' });
    const [execution] = await waitForTerminal(stack, 'broken', 1);
    expect(execution?.status).toBe('FAILED');
    const live = await stack.http<{ error: { type: string; message: string; stepId: string } }>(
      'orchestrator',
      'GET',
      `/v1/executions/${execution?.executionId}`,
    );
    expect(live.body.error).toMatchObject({ type: 'E2eFailure', stepId: 'only' });
    expect(live.body.error.message).toContain('failed on purpose');
    const metrics = await (await fetch(`${stack.service('orchestrator').url}/metrics`)).text();
    expect(metricValue(metrics, 'baton_executions_failed_total', { workflow: 'broken' })).toBe(1);
    expect(
      metricValue(metrics, 'baton_step_duration_seconds_count', { action: 'api.broken', status: 'failed' }),
    ).toBe(1);
  });

  it('applies ingress limits at the HTTP edge: size, depth, id tokens', async () => {
    const huge = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      '/v1/workflows/approval/executions',
      {
        input: { blob: 'x'.repeat(300 * 1024) },
      },
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const deep = JSON.stringify({
      input: Array.from({ length: 60 }).reduce<unknown>((acc) => ({ n: acc }), 1),
    });
    const tooDeep = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      '/v1/workflows/approval/executions',
      deep,
    );
    expect(tooDeep.status).toBe(422);
    const longId = await stack.http<{ error: { code: string; details: { path: string }[] } }>(
      'orchestrator',
      'POST',
      '/v1/workflows/approval/executions',
      { executionId: 'a'.repeat(129) },
    );
    expect(longId.status).toBe(422);
    expect(longId.body.error.details[0]?.path).toBe('/executionId');
    expect((await stack.http('orchestrator', 'GET', `/v1/executions/${'b'.repeat(200)}`)).status).toBe(422);
  });

  it('answers request-reply mirrors and NATS micro discovery', async () => {
    const nc = await stack.connection();
    const reply = await nc.request(
      'baton.api.orchestrator.executions-get',
      JSON.stringify({ id: 'approve-1' }),
      {
        timeout: 5000,
      },
    );
    expect(reply.json<{ executionId: string; status: string }>()).toMatchObject({
      executionId: 'approve-1',
      status: 'COMPLETED',
    });
    const missing = await nc.request(
      'baton.api.orchestrator.executions-get',
      JSON.stringify({ id: 'nope' }),
      {
        timeout: 5000,
      },
    );
    expect(missing.headers?.get('Nats-Service-Error-Code')).toBe('404');

    const names = new Set<string>();
    const sub = nc.subscribe(createInbox(), { max: 5, timeout: 5000 });
    nc.publish('$SRV.PING', '', { reply: sub.getSubject() });
    for await (const m of sub) names.add(m.json<{ name: string }>().name);
    expect(names).toEqual(
      new Set([
        'baton-orchestrator',
        'baton-scheduler',
        'baton-rule-engine',
        'baton-state-store',
        'baton-telemetry',
      ]),
    );
  });

  it('stops starting a deleted workflow while keeping its versions readable', async () => {
    expect((await stack.http('orchestrator', 'DELETE', '/v1/workflows/broken')).status).toBe(200);
    expect((await stack.http('orchestrator', 'GET', '/v1/workflows/broken')).status).toBe(404);
    expect((await stack.http('orchestrator', 'GET', '/v1/workflows/broken/versions/1')).status).toBe(200);
    const js = await stack.js();
    await js.publish('events.broken.requested', JSON.stringify({ n: 2 }), { msgID: 'broken-2' });
    // A later event of a live workflow proves the trigger consumer went past the one above.
    await js.publish('events.approval.requested', JSON.stringify({ n: 3 }), { msgID: 'approval-3' });
    await waitFor(async () => ((await listExecutions(stack, 'approval')).length >= 3 ? true : undefined), {
      what: 'the approval execution started by event',
    });
    expect(await listExecutions(stack, 'broken')).toHaveLength(1);
    const started = await stack.http<{ error: { code: string } }>(
      'orchestrator',
      'POST',
      '/v1/workflows/broken/executions',
      {},
    );
    expect(started.status).toBe(404);
  });
});
