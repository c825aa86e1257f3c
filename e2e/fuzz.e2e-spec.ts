import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import { definitionCorpus, eventCorpus, startRequestCorpus } from '../libs/workflow/test/fuzz-corpus';
import { SERVICE_NAMES, Stack } from './support/stack';
import { listExecutions, waitForTerminal } from './support/workflows';

const SEED = 20261206;

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: { path?: unknown; message?: unknown }[] };
}

interface DeadLetterView {
  id: string;
  status: string;
  stream: string;
  consumer: string;
  subject: string;
  streamSequence: number;
  errorCode: string;
  error: string;
  data: string;
}

/**
 * Bad input against the running stack (issue point 8): a seeded corpus of definitions, start requests and
 * events. Every HTTP answer is a 4xx naming what was wrong (never a 5xx), no service exits, and executions
 * started before and after the flood complete. The events that cannot be processed end as dead letters,
 * which the state-store lists and lets an operator re-drive or discard.
 */
describe('fuzzing the running services', () => {
  let stack: Stack;

  const ok: WorkflowDefinition = {
    id: 'fuzz-ok',
    version: 1,
    triggers: [{ type: 'event', subject: 'events.fuzz.ok', input: "{% { 'n': $event.n } %}" }],
    steps: [
      { id: 'a', type: 'task', action: 'fuzz.work', parameters: { n: '{% $input.n %}' } },
      { id: 'b', type: 'task', action: 'fuzz.work', dependencies: ['a'] },
    ],
  };

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startWorker({ actions: ['fuzz.work'], delayMs: 200 });
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', ok)).status).toBe(201);
    const valid: WorkflowDefinition = {
      ...ok,
      id: 'fuzz-valid',
      triggers: [{ type: 'event', subject: 'events.fuzz.valid', input: "{% { 'n': $event.n } %}" }],
    };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', valid)).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** POST with a body sent exactly as given (text or bytes). */
  const post = async (route: string, data: string | Uint8Array, contentType: string) => {
    const res = await fetch(`${stack.service('orchestrator').url}${route}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: data,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the assertion below reports it
    }
    return { status: res.status, body };
  };

  /** A 4xx with `{ error: { code, message } }`, and details naming paths for a 422. */
  const expectClientError = (what: string, res: { status: number; body: unknown }) => {
    const e = (res.body as ErrorBody).error;
    const summary = { what, status: res.status, code: e?.code, message: e?.message };
    expect({ ...summary, clientError: res.status >= 400 && res.status < 500 }).toEqual({
      ...summary,
      clientError: true,
    });
    expect(typeof e?.code).toBe('string');
    expect(typeof e?.message === 'string' && e.message.length > 0).toBe(true);
    if (res.status === 422) {
      expect(Array.isArray(e?.details) && e.details.length > 0).toBe(true);
      for (const d of e?.details ?? []) expect(typeof d.path).toBe('string');
    }
  };

  const allRunning = () => {
    for (const name of SERVICE_NAMES) {
      const handle = stack.service(name);
      expect({ name, running: handle.running }).toEqual({ name, running: true });
    }
  };

  it('rejects every bad definition and start request with a 4xx naming the problem; nothing crashes or is lost', async () => {
    // An execution in flight while the corpus arrives.
    const before = await stack.http<{ executionId: string }>(
      'orchestrator',
      'POST',
      '/v1/workflows/fuzz-ok/executions',
      {
        executionId: 'fuzz-before',
        input: { n: 1 },
      },
    );
    expect(before.status).toBe(202);

    const statuses: Record<string, number> = {};
    for (const c of definitionCorpus(SEED, 150)) {
      const res =
        c.raw !== undefined
          ? await post('/v1/workflows', c.raw.data, c.raw.contentType)
          : await stack.http('orchestrator', 'POST', '/v1/workflows', c.body);
      statuses[String(res.status)] = (statuses[String(res.status)] ?? 0) + 1;
      expect({ case: c.name, serverError: res.status >= 500 }).toEqual({ case: c.name, serverError: false });
      if (res.status >= 400) expectClientError(c.name, res);
      else expect({ case: c.name, invalid: c.invalid }).toEqual({ case: c.name, invalid: false });
    }
    // Most of the corpus is invalid by construction.
    const rejected = Object.entries(statuses)
      .filter(([s]) => Number(s) >= 400)
      .reduce((n, [, k]) => n + k, 0);
    expect(rejected).toBeGreaterThan(100);

    for (const c of startRequestCorpus(SEED, 60)) {
      const res =
        c.raw !== undefined
          ? await post('/v1/workflows/fuzz-ok/executions', c.raw, 'application/json')
          : await stack.http('orchestrator', 'POST', '/v1/workflows/fuzz-ok/executions', c.body);
      expect({ case: c.name, serverError: res.status >= 500 }).toEqual({ case: c.name, serverError: false });
      if (res.status >= 400) expectClientError(c.name, res);
    }
    // Path parameters too.
    for (const route of [
      '/v1/workflows/UPPER/executions',
      '/v1/workflows/a.b/executions',
      `/v1/workflows/${'x'.repeat(300)}/executions`,
    ]) {
      const res = await stack.http('orchestrator', 'POST', route, {});
      expectClientError(route, res);
    }
    allRunning();

    const after = await stack.http('orchestrator', 'POST', '/v1/workflows/fuzz-ok/executions', {
      executionId: 'fuzz-after',
      input: { n: 2 },
    });
    expect(after.status).toBe(202);
    await waitFor(
      async () => {
        const done = (await listExecutions(stack, 'fuzz-ok')).filter(
          (e) => ['fuzz-before', 'fuzz-after'].includes(e.executionId) && e.status === 'COMPLETED',
        );
        return done.length === 2 ? done : undefined;
      },
      { timeoutMs: 120_000, what: 'the executions started before and after the corpus to complete' },
    );
    allRunning();
  });

  it('bounds a hostile JSONata expression: the execution fails with EXPRESSION_FAILED, the orchestrator lives on', async () => {
    const hostile: WorkflowDefinition = {
      id: 'fuzz-hostile',
      version: 1,
      steps: [
        {
          id: 'spin',
          type: 'task',
          action: 'fuzz.work',
          parameters: { n: '{% ( $f := function($x) { $f($x + 1) }; $f(0) ) %}' },
        },
      ],
    };
    expect((await stack.http('orchestrator', 'POST', '/v1/workflows', hostile)).status).toBe(201);
    const started = await stack.http('orchestrator', 'POST', '/v1/workflows/fuzz-hostile/executions', {
      executionId: 'fuzz-hostile-1',
    });
    expect(started.status).toBe(202);
    const [done] = await waitForTerminal(stack, 'fuzz-hostile', 1, 120_000);
    expect(done?.status).toBe('FAILED');
    expect(JSON.stringify(done?.error)).toContain('EXPRESSION_FAILED');
    allRunning();
  });

  it('survives malformed events; those that cannot be processed become dead letters an operator can re-drive or discard', async () => {
    const js = await stack.js();
    const corpus = eventCorpus(SEED, 60);
    for (const e of corpus) {
      await js.publish('events.fuzz.ok', e.data);
    }
    // Malformed messages in the orchestrator's own inbox: results and start commands.
    const inbox: [string, string][] = [
      ['baton.orch.result.fuzz-before', '{"protocol":1,"taskId":"fuzz-before.a.1","status":"done"}'],
      ['baton.orch.result.fuzz-before', 'not json at all'],
      [
        'baton.orch.start.fuzz-ok',
        '{"protocol":1,"kind":"start","executionId":"x y","workflowId":"fuzz-ok"}',
      ],
      ['baton.orch.heartbeat.fuzz-before', '{"kind":"heartbeat","taskId":42}'],
    ];
    for (const [subject, body] of inbox) await js.publish(subject, new TextEncoder().encode(body));
    // A malformed task too: its worker dead-letters it.
    await js.publish('baton.tasks.fuzz.work', new TextEncoder().encode('{"protocol": 1, "taskId": 7}'));

    // A valid event after the flood, through the same trigger consumer, still starts an execution that completes.
    await js.publish('events.fuzz.valid', new TextEncoder().encode(JSON.stringify({ n: 99 })), {
      msgID: 'fuzz-valid-event',
    });
    const [valid] = await waitForTerminal(stack, 'fuzz-valid', 1, 120_000);
    expect(valid?.status).toBe('COMPLETED');
    allRunning();

    const list = async (query: string) =>
      (await stack.http<{ items: DeadLetterView[] }>('state-store', 'GET', `/v1/dead-letters?${query}`)).body
        .items;
    const eventsDead = await waitFor(
      async () => {
        const items = await list('stream=EVENTS&limit=500');
        return items.length >= 2 ? items : undefined;
      },
      { timeoutMs: 60_000, what: 'dead letters of the malformed events' },
    );
    for (const d of eventsDead) {
      expect(d).toMatchObject({ stream: 'EVENTS', status: 'DEAD', subject: 'events.fuzz.ok' });
      expect(d.errorCode.length).toBeGreaterThan(0);
      expect(d.error.length).toBeGreaterThan(0);
    }
    const orchDead = await waitFor(
      async () => {
        const items = await list('stream=BATON_ORCH&limit=500');
        return items.length >= 2 ? items : undefined;
      },
      { timeoutMs: 60_000, what: "dead letters of the orchestrator's malformed inbox messages" },
    );
    expect(orchDead.every((d) => d.consumer === 'orchestrator' && d.errorCode.length > 0)).toBe(true);
    const notJson = eventsDead.find((d) => Buffer.from(d.data, 'base64').toString() === '{"id": ');
    expect(notJson).toBeDefined();
    const taskDead = await waitFor(async () => (await list('durable=task_fuzz_work'))[0], {
      timeoutMs: 60_000,
      what: 'the malformed task as a dead letter',
    });
    expect(taskDead).toMatchObject({
      stream: 'BATON_TASKS',
      subject: 'baton.tasks.fuzz.work',
      errorCode: 'VALIDATION_FAILED',
    });

    // Re-drive: the same bytes go back to events.fuzz.ok and die again, as a new dead letter.
    const id = notJson!.id;
    const redriven = await stack.http<DeadLetterView & { redrive: { streamSequence: number } }>(
      'state-store',
      'POST',
      `/v1/dead-letters/${id}/redrive`,
      { by: 'e2e' },
    );
    expect(redriven.status).toBe(200);
    expect(redriven.body.status).toBe('REDRIVEN');
    const again = await waitFor(
      async () =>
        (await list('stream=EVENTS&limit=500')).find(
          (d) => d.streamSequence === redriven.body.redrive.streamSequence,
        ),
      { timeoutMs: 60_000, what: 'the re-driven event to die again' },
    );
    expect(Buffer.from(again.data, 'base64').toString()).toBe('{"id": ');
    expect((await stack.http('state-store', 'POST', `/v1/dead-letters/${id}/redrive`, {})).status).toBe(409);

    const discarded = await stack.http<DeadLetterView>(
      'state-store',
      'POST',
      `/v1/dead-letters/${taskDead.id}/discard`,
      {
        reason: 'malformed on purpose',
      },
    );
    expect(discarded.body).toMatchObject({ status: 'DISCARDED', reason: 'malformed on purpose' });
    expect((await list('status=DISCARDED')).map((d) => d.id)).toEqual([taskDead.id]);
    allRunning();
  });
});
