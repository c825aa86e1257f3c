import { Transform } from 'class-transformer';

/**
 * Turns a decimal string (`"50"`, as query strings carry numbers) into a number; leaves anything else
 * as it is, for the validators to reject. Numbers (from a NATS request's JSON) pass through.
 */
export function ToInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : value,
  );
}

/** Turns `"true"` / `"false"` into booleans; leaves anything else for the validators to reject. */
export function ToBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  );
}
