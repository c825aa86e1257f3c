/**
 * An OTLP/HTTP trace receiver inside the test (or bench) process: services started with
 * `OTEL_EXPORTER_OTLP_ENDPOINT=<receiver.url>` export their spans to it (`POST /v1/traces`). It accepts the
 * JSON encoding, which `@opentelemetry/exporter-trace-otlp-http` sends (hex ids, string nanosecond times),
 * plain or gzip-compressed; anything else is answered 415 and counted in `rejected`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { tracing } from '@opentelemetry/sdk-node';

/** OTLP span kinds (the enum of the protocol: 0 unspecified). */
export const OtlpSpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

const KIND_NAMES: Record<number, string> = {
  1: 'internal',
  2: 'server',
  3: 'client',
  4: 'producer',
  5: 'consumer',
};

/** One received span, flattened: attributes as plain values, the resource's `service.name` as `service`. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  startNs: bigint;
  endNs: bigint;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function plain(value: OtlpValue | undefined): string | number | boolean {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return '';
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) out[kv.key] = plain(kv.value);
  return out;
}

/** Flattens one OTLP/JSON export request. */
export function decodeOtlpJson(body: OtlpRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          kind: s.kind ?? 0,
          service,
          startNs: BigInt(s.startTimeUnixNano ?? 0),
          endNs: BigInt(s.endTimeUnixNano ?? 0),
          statusCode: s.status?.code ?? 0,
          attributes: attributesOf(s.attributes),
        });
      }
    }
  }
  return spans;
}

/** The receiver: collects every span exported to it. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests it could not decode. */
  rejected = 0;
  /** Export requests received. */
  requests = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Listens on a free port of 127.0.0.1. */
  static async start(): Promise<OtlpReceiver> {
    const holder: { receiver?: OtlpReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = holder.receiver;
        if (target === undefined) return void res.writeHead(503).end();
        if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
        target.requests++;
        try {
          const type = req.headers['content-type'] ?? '';
          if (!type.startsWith('application/json')) throw new Error(`unsupported content-type ${type}`);
          let raw = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
          target.spans.push(...decodeOtlpJson(JSON.parse(raw.toString('utf8')) as OtlpRequest));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          target.rejected++;
          res.writeHead(415).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`);
    holder.receiver = receiver;
    return receiver;
  }

  /** Spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** Forgets the spans received so far. */
  clear(): void {
    this.spans.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/** A span with its children, as {@link buildTraceTree} assembles them. */
export interface TraceNode {
  span: ReceivedSpan;
  children: TraceNode[];
}

/** The tree of one trace's spans: its roots (spans without a parent, or whose parent is not among them). */
export function buildTraceTree(spans: readonly ReceivedSpan[]): TraceNode[] {
  const nodes = new Map<string, TraceNode>();
  for (const span of spans) nodes.set(span.spanId, { span, children: [] });
  const roots: TraceNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === undefined ? undefined : nodes.get(node.span.parentSpanId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: TraceNode, b: TraceNode) =>
    a.span.startNs < b.span.startNs ? -1 : a.span.startNs > b.span.startNs ? 1 : 0;
  const sort = (list: TraceNode[]) => {
    list.sort(byStart);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** Every span of a tree, depth first. */
export function flattenTree(roots: readonly TraceNode[]): TraceNode[] {
  const out: TraceNode[] = [];
  const walk = (n: TraceNode) => {
    out.push(n);
    n.children.forEach(walk);
  };
  roots.forEach(walk);
  return out;
}

/**
 * ASCII picture of a trace: one line per span, `name [service] kind` and the step attributes when
 * present, indented under its parent.
 */
export function renderTraceTree(roots: readonly TraceNode[]): string {
  const lines: string[] = [];
  const label = (s: ReceivedSpan) => {
    const step =
      s.attributes['baton.step_id'] === undefined
        ? ''
        : ` step=${String(s.attributes['baton.step_id'])}` +
          (s.attributes['baton.attempt'] === undefined
            ? ''
            : ` attempt=${String(s.attributes['baton.attempt'])}`);
    const error = s.statusCode === 2 ? ' ERROR' : '';
    return `${s.name} [${s.service}] ${KIND_NAMES[s.kind] ?? 'unspecified'}${step}${error}`;
  };
  const walk = (node: TraceNode, prefix: string, last: boolean, top: boolean) => {
    lines.push(top ? label(node.span) : `${prefix}${last ? '└─ ' : '├─ '}${label(node.span)}`);
    const childPrefix = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((c, i) => walk(c, childPrefix, i === node.children.length - 1, false));
  };
  roots.forEach((r) => walk(r, '', true, true));
  return lines.join('\n');
}

/**
 * An OTLP/HTTP JSON span exporter over `fetch`, for spans made inside a Jest test process: the stock
 * `OTLPTraceExporter` loads `http` by dynamic `import()`, which Jest's VM refuses without
 * `--experimental-vm-modules`. Same encoding (the OTel JSON serializer), same endpoint (`<url>/v1/traces`).
 */
export class FetchOtlpJsonExporter implements tracing.SpanExporter {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly baseUrl: string) {}

  export(spans: tracing.ReadableSpan[], done: (result: ExportResult) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans);
    const sent = fetch(`${this.baseUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? '{}' : Buffer.from(body),
    })
      .then((res) => done({ code: res.ok ? ExportResultCode.SUCCESS : ExportResultCode.FAILED }))
      .catch((error: Error) => done({ code: ExportResultCode.FAILED, error }))
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}
