import type { JsMsg } from '@nats-io/jetstream';
import { Match, type MsgHdrs, headers as createHeaders } from '@nats-io/nats-core';
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** Header values accepted by the publisher: one value, or several for a repeated header. */
export type HeaderValues = Record<string, string | readonly string[]>;

/**
 * The headers of a JetStream message, typed (nats.js declares them through a module path that TypeScript's
 * `node` resolution does not follow).
 */
export function messageHeaders(msg: JsMsg): MsgHdrs | undefined {
  return (msg as { headers?: MsgHdrs }).headers;
}

/** All headers of a message, name to values (names as sent). */
export function headersToRecord(hdrs: MsgHdrs | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (hdrs === undefined) return out;
  for (const key of hdrs.keys()) out[key] = hdrs.values(key);
  return out;
}

/** One header, matched case-insensitively; undefined when absent. */
export function headerValue(hdrs: MsgHdrs | undefined, name: string): string | undefined {
  if (hdrs === undefined || !hdrs.has(name, Match.IgnoreCase)) return undefined;
  return hdrs.get(name, Match.IgnoreCase);
}

/** NATS header values cannot hold line breaks; long values are cut. */
export function sanitizeHeaderValue(value: string, maxLength = 512): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 3)}...` : flat;
}

/** Builds NATS headers from a record. */
export function recordToHeaders(values: HeaderValues | undefined): MsgHdrs {
  const hdrs = createHeaders();
  if (values === undefined) return hdrs;
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') hdrs.set(key, sanitizeHeaderValue(value, 4096));
    else for (const v of value) hdrs.append(key, sanitizeHeaderValue(v, 4096));
  }
  return hdrs;
}

/** OpenTelemetry propagation getter over NATS headers (case-insensitive). */
export const natsHeadersGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  get: (carrier, key) => {
    if (carrier === undefined || !carrier.has(key, Match.IgnoreCase)) return undefined;
    const values = carrier.values(key, Match.IgnoreCase);
    return values.length === 1 ? values[0] : values;
  },
};

/** OpenTelemetry propagation setter over NATS headers. */
export const natsHeadersSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
