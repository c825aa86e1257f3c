import type { WorkflowDefinition } from '@baton/contracts';
import { waitFor } from '@baton/testing';

import type { Stack } from './stack';

/** A 6-step DAG: split, a fan-out of 3, a join, a final step; started by `events.<prefix>.started`. */
export function fanOutWorkflow(id: string, subject: string, prefix = 'e2e'): WorkflowDefinition {
  return {
    id,
    name: 'Fan-out of three and a join',
    version: 1,
    triggers: [
      {
        type: 'event',
        subject,
        input: "{% { 'orderId': $event.id, 'value': $event.value } %}",
      },
    ],
    output:
      "{% { 'orderId': $input.orderId, 'parts': [$steps.a.output.key, $steps.b.output.key, $steps.c.output.key], 'final': $steps.final.output.action } %}",
    steps: [
      { id: 'split', type: 'task', action: `${prefix}.split`, parameters: { value: '{% $input.value %}' } },
      {
        id: 'a',
        type: 'task',
        action: `${prefix}.part`,
        parameters: { value: 'a' },
        dependencies: ['split'],
      },
      {
        id: 'b',
        type: 'task',
        action: `${prefix}.part`,
        parameters: { value: 'b' },
        dependencies: ['split'],
      },
      {
        id: 'c',
        type: 'task',
        action: `${prefix}.part`,
        parameters: { value: 'c' },
        dependencies: ['split'],
      },
      {
        id: 'join',
        type: 'task',
        action: `${prefix}.join`,
        parameters: { value: '{% $count([$steps.a.output, $steps.b.output, $steps.c.output]) %}' },
        dependencies: ['a', 'b', 'c'],
      },
      { id: 'final', type: 'task', action: `${prefix}.final`, dependencies: ['join'] },
    ],
  };
}

/** Five sequential no-op tasks (also the `seq5` benchmark shape). */
export function sequenceWorkflow(
  id: string,
  subject: string,
  action: string,
  length = 5,
): WorkflowDefinition {
  return {
    id,
    version: 1,
    triggers: [{ type: 'event', subject, input: "{% { 'n': $event.n } %}" }],
    steps: Array.from({ length }, (_, i) => ({
      id: `s${i + 1}`,
      type: 'task' as const,
      action,
      parameters: { value: i + 1 },
      ...(i > 0 ? { dependencies: [`s${i}`] } : {}),
    })),
  };
}

export interface ExecutionSummary {
  executionId: string;
  workflowId: string;
  status: string;
  output?: unknown;
  error?: unknown;
  steps: Record<string, { status: string; attempt: number; output?: unknown }>;
}

/** Every execution of a workflow in the state-store (all pages). */
export async function listExecutions(stack: Stack, workflowId: string): Promise<ExecutionSummary[]> {
  const items: ExecutionSummary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const query = `workflowId=${workflowId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await stack.http<{ items: ExecutionSummary[]; nextCursor?: string | null }>(
      'state-store',
      'GET',
      `/v1/executions?${query}`,
    );
    if (res.status !== 200) throw new Error(`state-store list: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    if (!res.body.nextCursor) return items;
    cursor = res.body.nextCursor;
  }
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'COMPENSATED', 'TERMINATED']);

/** Waits until the state-store holds `count` terminal executions of the workflow; returns them. */
export async function waitForTerminal(
  stack: Stack,
  workflowId: string,
  count: number,
  timeoutMs = 180_000,
): Promise<ExecutionSummary[]> {
  let last: ExecutionSummary[] = [];
  return waitFor(
    async () => {
      last = await listExecutions(stack, workflowId);
      const done = last.filter((e) => TERMINAL.has(e.status));
      return done.length >= count ? done : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `${count} terminal executions of ${workflowId}` },
  ).catch((err: Error) => {
    const byStatus: Record<string, number> = {};
    for (const e of last) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    throw new Error(`${err.message}; seen ${JSON.stringify(byStatus)}`);
  });
}

/** Counts effects per idempotency key; returns the keys applied more than once. */
export function duplicatedEffects(effects: { key: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const e of effects) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([key]) => key);
}
