import { Cron } from 'croner';

/** Cron nicknames accepted besides 5- and 6-field expressions. */
export const CRON_NICKNAMES: ReadonlySet<string> = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@hourly',
]);

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
 * Why a cron expression is unusable (in `timezone`, UTC when absent), or `undefined`: 5 fields (minute hour
 * day month weekday), 6 with seconds first, or a nickname; it must fire at least once more. Used by the
 * definition validator (cron triggers) and the scheduler (schedules), so both accept the same expressions.
 */
export function cronProblem(expression: string, timezone?: string): string | undefined {
  const pattern = expression.trim();
  const fields = pattern.split(/\s+/).length;
  if (!CRON_NICKNAMES.has(pattern.toLowerCase()) && (fields < 5 || fields > 6)) {
    return `must have 5 fields (minute hour day month weekday), 6 with seconds first, or be one of ${[...CRON_NICKNAMES].join(', ')}`;
  }
  try {
    const cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
    const next = cron.nextRun();
    cron.stop();
    if (next === null) return 'never fires';
  } catch (err) {
    return `invalid cron expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}
