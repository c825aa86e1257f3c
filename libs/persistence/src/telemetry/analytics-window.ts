/**
 * Sliding windows of the analytics. Statistics are kept per minute (the minute of the event, UTC); a
 * window of N minutes sums the minutes whose start is at or after `floor(now - N minutes)`, i.e. the last
 * N minutes plus the part of the minute at its start (at most one minute more than N).
 */
export const ANALYTICS_WINDOWS = { '5m': 5, '1h': 60, '24h': 1440 } as const;
/** A window name: `5m`, `1h` or `24h`. */
export type AnalyticsWindow = keyof typeof ANALYTICS_WINDOWS;
/** Window names, shortest first. */
export const ANALYTICS_WINDOW_NAMES = Object.keys(ANALYTICS_WINDOWS) as AnalyticsWindow[];
/** The window used when none is given. */
export const DEFAULT_ANALYTICS_WINDOW: AnalyticsWindow = '1h';

const MINUTE_MS = 60_000;

/** Whether `value` names a window. */
export function isAnalyticsWindow(value: unknown): value is AnalyticsWindow {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ANALYTICS_WINDOWS, value);
}

/** The start of the minute holding `at` (UTC). */
export function minuteOf(at: Date | number): Date {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS);
}

/** The first minute bucket inside `window` at time `now`. */
export function windowStart(window: AnalyticsWindow, now: Date | number = Date.now()): Date {
  const ms = typeof now === 'number' ? now : now.getTime();
  return minuteOf(ms - ANALYTICS_WINDOWS[window] * MINUTE_MS);
}

/** Whether the minute bucket starting at `minute` counts in `window` at time `now`. */
export function inWindow(minute: Date, window: AnalyticsWindow, now: Date | number = Date.now()): boolean {
  return minute.getTime() >= windowStart(window, now).getTime();
}
