import { Cron } from 'croner';

/** Cron nicknames croner understands (the orchestrator's definition validator accepts the same). */
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a cron expression is unusable in `timezone`, or `undefined`: 5 fields (minute hour day month weekday),
 * 6 with seconds first, or a nickname; it must fire at least once more.
 */
export function cronProblem(expression: string, timezone: string): string | undefined {
  const pattern = expression.trim();
  const fields = pattern.split(/\s+/).length;
  if (!NICKNAMES.has(pattern.toLowerCase()) && (fields < 5 || fields > 6)) {
    return `must have 5 fields (minute hour day month weekday), 6 with seconds first, or be one of ${[...NICKNAMES].join(', ')}`;
  }
  try {
    if (compile(pattern, timezone).nextRun() === null) return 'never fires';
  } catch (err) {
    return `invalid cron expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

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
