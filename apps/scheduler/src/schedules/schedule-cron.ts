import { Cron } from 'croner';

export { cronProblem, isTimeZone } from '@baton/workflow';

function compile(expression: string, timezone: string): Cron {
  return new Cron(expression.trim(), { paused: true, timezone });
}

/** The first fire time strictly after `after`, or null when the expression never fires again. */
export function nextFireAfter(expression: string, timezone: string, after: Date): Date | null {
  return compile(expression, timezone).nextRun(after);
}

/** The latest fire time at or before `at`, or null when there was none. */
export function latestFireAtOrBefore(expression: string, timezone: string, at: Date): Date | null {
  const [latest] = compile(expression, timezone).previousRuns(1, new Date(at.getTime() + 1));
  return latest ?? null;
}
