import type { z } from 'zod';

import { BatonError, ErrorCode, isBatonError } from '@baton/contracts';

/** One bad configuration key. */
export interface ConfigIssue {
  key: string;
  /** Completes "<key> ...": `must be an integer between 1 and 65535 (got "abc")`. */
  problem: string;
}

const SECRET_KEY = /PASSWORD|TOKEN|SECRET|CREDENTIAL/i;

/**
 * A configuration that does not validate. Its message has one line per bad key:
 * `invalid configuration: PORT must be an integer between 1 and 65535 (got "abc")`.
 * Code `VALIDATION_FAILED`; recognise it with {@link isConfigError}.
 */
export class ConfigError extends BatonError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(
      ErrorCode.VALIDATION_FAILED,
      issues.map((i) => `invalid configuration: ${i.key} ${i.problem}`).join('\n'),
      {
        retryable: false,
        details: issues.map((i) => ({ path: `/${i.key}`, message: `${i.key} ${i.problem}`, rule: 'config' })),
        context: { config: true },
      },
    );
    this.issues = issues;
  }
}

/** Whether `value` is a {@link ConfigError} (duck-typed: survives duplicate copies of this package). */
export function isConfigError(value: unknown): value is ConfigError {
  return (
    isBatonError(value) &&
    value.code === ErrorCode.VALIDATION_FAILED &&
    Array.isArray((value as { issues?: unknown }).issues) &&
    value.context['config'] === true
  );
}

/** Shows a bad value in an error line without leaking secrets (passwords in URLs, tokens). */
export function describeValue(key: string, value: string): string {
  if (SECRET_KEY.test(key)) return `got a value of ${value.length} characters`;
  const shown = redactUrlPassword(value);
  const clipped = shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
  return `got ${JSON.stringify(clipped)}`;
}

/** `scheme://user:secret@host` -> `scheme://user:***@host`, anywhere in `text`. */
export function redactUrlPassword(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi, '$1:***@');
}

/**
 * Validates `env` (default `process.env`) against a zod env schema and returns the typed configuration.
 * Empty values count as unset, so their defaults apply. Throws a {@link ConfigError} naming every bad key.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>> = process.env,
): z.output<S> {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const byKey = new Map<string, string>();
  for (const issue of result.error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
    if (byKey.has(key)) continue;
    const raw = input[key];
    const problem = raw === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
    byKey.set(key, raw === undefined ? problem : `${problem} (${describeValue(key, raw)})`);
  }
  throw new ConfigError([...byKey].map(([key, problem]) => ({ key, problem })));
}
