import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

import { Headers, Streams } from '@baton/contracts';
import { type AnalyticsRepository, QUERY_LIMITS } from '@baton/persistence';

import type { Observation } from './alert-evaluator';
import type { ConsumerLagRule, ErrorRateRule, StuckExecutionsRule } from './alert-rules';

/** Error rate of every workflow (or one) over the rule's window, from the analytics tables. */
export async function observeErrorRate(
  rule: ErrorRateRule,
  repository: Pick<AnalyticsRepository, 'listWorkflows'>,
  now: Date,
): Promise<Observation[]> {
  const workflows = await repository.listWorkflows(rule.window, now);
  return workflows
    .filter((w) => rule.workflowId === undefined || w.workflowId === rule.workflowId)
    .map((w) => {
      const failed = w.failed + w.compensated + w.terminated;
      const rate = w.finished === 0 ? 0 : failed / w.finished;
      return {
        key: `workflow:${w.workflowId}`,
        value: Number(rate.toFixed(4)),
        breached: w.finished >= rule.minExecutions && rate > rule.threshold,
        labels: { workflowId: w.workflowId, window: rule.window },
        summary: `${failed} of ${w.finished} executions of ${w.workflowId} failed in the last ${rule.window}`,
      };
    });
}

/** A page of `baton.api.state-store.executions.list`. */
interface ExecutionPage {
  items: { executionId: string; workflowId: string; status: string; updatedAt: string }[];
  nextCursor: string | null;
}

/** Most executions one evaluation reads per status (pages of 500). */
export const STUCK_SCAN_LIMIT = 5_000;

/** Asks the state-store (request-reply) for executions in `status`, page by page. */
export type ExecutionLister = (query: {
  status: string;
  limit: number;
  cursor?: string;
}) => Promise<ExecutionPage>;

/** The state-store's `executions.list` endpoint over NATS. */
export function stateStoreLister(nc: NatsConnection, timeoutMs: number): ExecutionLister {
  return async (query) => {
    const reply = await nc.request('baton.api.state-store.executions.list', JSON.stringify(query), {
      timeout: timeoutMs,
    });
    const error = reply.headers?.get(Headers.SERVICE_ERROR);
    if (error) throw new Error(`state-store executions.list: ${error}`);
    return reply.json<ExecutionPage>();
  };
}

/**
 * Executions RUNNING or WAITING whose record has not changed for `afterSeconds`, as the state-store's
 * projection holds them (one alert for all: `key` `all`, value = how many, reading at most
 * {@link STUCK_SCAN_LIMIT} per status).
 */
export async function observeStuck(
  rule: StuckExecutionsRule,
  list: ExecutionLister,
  now: Date,
): Promise<Observation[]> {
  const bound = now.getTime() - rule.afterSeconds * 1000;
  const stuck: { executionId: string; workflowId: string }[] = [];
  for (const status of ['RUNNING', 'WAITING']) {
    let cursor: string | undefined;
    let read = 0;
    do {
      const page = await list({
        status,
        limit: QUERY_LIMITS.executions.max,
        ...(cursor === undefined ? {} : { cursor }),
      });
      read += page.items.length;
      for (const e of page.items) if (Date.parse(e.updatedAt) <= bound) stuck.push(e);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && read < STUCK_SCAN_LIMIT);
  }
  const sample = stuck
    .slice(0, 5)
    .map((e) => e.executionId)
    .join(', ');
  return [
    {
      key: 'all',
      value: stuck.length,
      breached: stuck.length >= rule.minCount,
      labels: {},
      summary:
        stuck.length === 0
          ? `no execution without progress for ${rule.afterSeconds} s`
          : `${stuck.length} executions RUNNING or WAITING without progress for ${rule.afterSeconds} s (${sample}${stuck.length > 5 ? ', ...' : ''})`,
    },
  ];
}

/** Pending messages of one durable consumer. */
export interface ConsumerPending {
  stream: string;
  durable: string;
  pending: number;
}

/** Pending messages of every durable consumer on the streams of `Streams` (EVENTS and `BATON_*`). */
export function jetStreamPending(nc: NatsConnection): () => Promise<ConsumerPending[]> {
  return async () => {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const out: ConsumerPending[] = [];
    const batonStreams = new Set<string>(Object.values(Streams));
    for await (const stream of jsm.streams.list()) {
      if (!batonStreams.has(stream.config.name)) continue;
      for await (const consumer of jsm.consumers.list(stream.config.name)) {
        if (!consumer.config.durable_name) continue;
        out.push({
          stream: stream.config.name,
          durable: consumer.config.durable_name,
          pending: consumer.num_pending,
        });
      }
    }
    return out;
  };
}

/** Lag of every durable consumer (or one), one alert each. */
export async function observeLag(
  rule: ConsumerLagRule,
  pending: () => Promise<ConsumerPending[]>,
): Promise<Observation[]> {
  const consumers = await pending();
  return consumers
    .filter((c) => rule.durable === undefined || c.durable === rule.durable)
    .map((c) => ({
      key: `consumer:${c.stream}/${c.durable}`,
      value: c.pending,
      breached: c.pending > rule.maxPending,
      labels: { stream: c.stream, durable: c.durable },
      summary: `${c.durable} on ${c.stream} has ${c.pending} messages pending (bound ${rule.maxPending})`,
    }));
}
