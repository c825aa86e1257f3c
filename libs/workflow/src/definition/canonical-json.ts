import { createHash } from 'node:crypto';

import type { WorkflowDefinition } from '@baton/contracts';

/**
 * JSON text of `value` with object keys sorted (by UTF-16 code units) at every level and no whitespace.
 * Otherwise it follows JSON.stringify: `undefined` and functions are dropped from objects and become `null`
 * in arrays, non-finite numbers become `null`, `toJSON` is honoured. Two values that are equal as JSON give
 * the same text, whatever their key order or source format (JSON or YAML).
 */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  return text === undefined ? 'null' : text;
}

/** sha256 (hex) of {@link canonicalJson} of the definition: equal definitions have equal digests. */
export function definitionDigest(def: WorkflowDefinition): string {
  return createHash('sha256').update(canonicalJson(def), 'utf8').digest('hex');
}

function write(value: unknown): string | undefined {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const text = write(record[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}
