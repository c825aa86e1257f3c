import { badParameter } from '../cursor';

/** Checks an optional integer list parameter against its bounds; returns the default when absent. */
export function checkLimit(
  value: number | undefined,
  bounds: { readonly min: number; readonly max: number; readonly default: number },
  param = 'limit',
): number {
  if (value === undefined) return bounds.default;
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw badParameter(param, `must be an integer in ${bounds.min}..${bounds.max}`, 'range');
  }
  return value;
}

/** Checks an optional Date parameter. */
export function checkDate(value: Date | undefined, param: string): Date | undefined {
  if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
    throw badParameter(param, 'must be an ISO-8601 date-time', 'format');
  }
  return value;
}
