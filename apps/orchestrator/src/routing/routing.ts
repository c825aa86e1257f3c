import { RoutingStrategy } from '@baton/contracts';
import type { Routing, RoutingCandidate } from '@baton/contracts';

/** What a dispatch of a routed step knows when it picks its candidate. */
export interface RouteContext {
  /** Actions that already failed for good in this step (failover moves past them). */
  failed: ReadonlySet<string>;
  /** Whether an action has a live worker now. */
  isLive: (action: string) => boolean;
  /** Budget left in the execution (`budget.limit` minus what completed steps charged); none without budget. */
  remainingBudget: number | undefined;
  /** Identifies the step across executions (`<workflowId>:<stepId>`), for round-robin. */
  key: string;
  random: () => number;
}

export type RouteChoice =
  | { action: string; cost: number; reason: string }
  | { error: { type: 'NO_CANDIDATE' | 'BUDGET_EXCEEDED'; message: string } };

/**
 * Chooses the action of a routed task step (docs/adr/0019-routing-and-budgets.md). Candidates that failed for
 * good in this step are never chosen again; candidates with a live worker come first; when none is live the
 * first eligible one is chosen all the same (its task waits in its queue for a worker). Round-robin turns
 * per step across the executions this instance dispatches.
 */
export class Router {
  private readonly turns = new Map<string, number>();

  choose(routing: Routing, ctx: RouteContext): RouteChoice {
    const open = routing.candidates.filter((c) => !ctx.failed.has(c.action));
    if (open.length === 0) {
      return {
        error: {
          type: 'NO_CANDIDATE',
          message: `every candidate failed (${routing.candidates.map((c) => c.action).join(', ')})`,
        },
      };
    }
    const live = open.filter((c) => ctx.isLive(c.action));
    const pool = live.length > 0 ? live : open;
    const note = live.length > 0 ? '' : ' (no candidate has a live worker; it waits in its queue)';
    switch (routing.strategy) {
      case RoutingStrategy.FAILOVER: {
        const first = pool[0];
        const skipped = open.indexOf(first);
        return choice(first, `failover: first ${skipped > 0 ? 'live ' : ''}candidate not failed${note}`);
      }
      case RoutingStrategy.ROUND_ROBIN: {
        const turn = this.turns.get(ctx.key) ?? 0;
        this.turns.set(ctx.key, turn + 1);
        if (this.turns.size > 10_000) this.turns.delete(this.turns.keys().next().value as string);
        return choice(pool[turn % pool.length], `round-robin turn ${turn}${note}`);
      }
      case RoutingStrategy.WEIGHTED: {
        const total = pool.reduce((sum, c) => sum + (c.weight ?? 1), 0);
        let point = ctx.random() * total;
        for (const c of pool) {
          point -= c.weight ?? 1;
          if (point < 0) return choice(c, `weighted ${c.weight ?? 1}/${total}${note}`);
        }
        return choice(pool[pool.length - 1], `weighted${note}`);
      }
      case RoutingStrategy.BEST_SCORE: {
        const budget = ctx.remainingBudget;
        const fits = pool.filter((c) => budget === undefined || (c.cost ?? 0) <= budget);
        if (fits.length === 0) {
          return {
            error: {
              type: 'BUDGET_EXCEEDED',
              message: `no candidate fits the remaining budget ${budget} (cheapest costs ${Math.min(...pool.map((c) => c.cost ?? 0))})`,
            },
          };
        }
        let best = fits[0];
        for (const c of fits) if (score(c) > score(best)) best = c;
        return choice(best, `best benefit/cost ${formatScore(score(best))}${note}`);
      }
      default:
        return {
          error: { type: 'NO_CANDIDATE', message: `unknown routing strategy ${String(routing.strategy)}` },
        };
    }
  }
}

function choice(c: RoutingCandidate, reason: string): RouteChoice {
  return { action: c.action, cost: c.cost ?? 0, reason };
}

/** benefit / cost; a free candidate scores infinitely (ties keep the definition's order). */
function score(c: RoutingCandidate): number {
  const cost = c.cost ?? 0;
  const benefit = c.benefit ?? 1;
  return cost === 0 ? Number.POSITIVE_INFINITY : benefit / cost;
}

function formatScore(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : 'free';
}
