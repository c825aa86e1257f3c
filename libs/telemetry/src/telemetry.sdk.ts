import { context, propagation, trace } from '@opentelemetry/api';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as InstrumentationHttp from '@opentelemetry/instrumentation-http';
import type * as InstrumentationPg from '@opentelemetry/instrumentation-pg';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import type * as SemConv from '@opentelemetry/semantic-conventions';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` of every span, e.g. `baton-scheduler`. */
  serviceName: string;
  /** `service.version` of every span (semver). */
  serviceVersion: string;
  /**
   * Environment to read the standard `OTEL_*` variables from. Defaults to `process.env`.
   * @internal tests pass their own.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Replaces the OTLP/HTTP exporter; spans are then exported one by one as they end.
   * @internal for tests (an in-memory exporter).
   */
  exporter?: tracing.SpanExporter;
}

/** What {@link startTelemetry} returns: flushes and stops the SDK (a no-op when tracing is off). */
export interface TelemetryHandle {
  /** Whether an SDK was started (`OTEL_EXPORTER_OTLP_ENDPOINT` was set). */
  readonly enabled: boolean;
  /** Exports the spans that ended so far. */
  forceFlush(): Promise<void>;
  /** Flushes pending spans, stops the SDK and unregisters it. Safe to call more than once. */
  shutdown(): Promise<void>;
}

const DISABLED: TelemetryHandle = {
  enabled: false,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/** Probe and scrape traffic is not traced: it would drown the traces that matter. */
const UNTRACED_PATHS = ['/health', '/metrics'];

let active: TelemetryHandle | undefined;

/** Loads a module on demand. */
function load<T>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(id) as T;
}

/**
 * Starts OpenTelemetry tracing for one service process.
 *
 * Only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the standard OTel variable) does it start a NodeSDK with the
 * OTLP/HTTP trace exporter, the HTTP and PostgreSQL (`pg`) instrumentations and the W3C trace-context propagator; metrics and logs
 * are not exported. Otherwise nothing is loaded or registered, so tracing that is off costs next to nothing.
 *
 * Call it first in a service's `src/instrumentation.ts`, which `main.ts` imports before anything else, so
 * the HTTP instrumentation patches `http` before Nest loads it. Starting twice returns the first handle.
 */
export function startTelemetry(options: TelemetryOptions): TelemetryHandle {
  if (active) return active;
  // This runs before configuration is loaded (instrumentation must be in place before the modules it patches
  // are required), so it is the one place besides config loading that reads process.env directly; it reads
  // only the standard OTEL_* variables, which the OTel SDK itself also reads.
  const env = options.env ?? process.env;
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (!endpoint) return DISABLED;

  // Loaded lazily: the SDK and exporters are only paid for when tracing is on.
  const sdkNode = load<typeof SdkNode>('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = load<typeof InstrumentationHttp>('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = load<typeof InstrumentationPg>('@opentelemetry/instrumentation-pg');
  const semconv = load<typeof SemConv>('@opentelemetry/semantic-conventions');

  let spanProcessor: tracing.SpanProcessor;
  if (options.exporter) {
    spanProcessor = new sdkNode.tracing.SimpleSpanProcessor(options.exporter);
  } else {
    const { OTLPTraceExporter } = load<typeof OtlpHttp>('@opentelemetry/exporter-trace-otlp-http');
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and appends `/v1/traces`.
    spanProcessor = new sdkNode.tracing.BatchSpanProcessor(new OTLPTraceExporter());
  }

  const sdk: NodeSDK = new sdkNode.NodeSDK({
    serviceName: options.serviceName,
    resource: sdkNode.resources.resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: options.serviceName,
      [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion,
    }),
    spanProcessors: [spanProcessor],
    textMapPropagator: new sdkNode.core.W3CTraceContextPropagator(),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.some((p) => req.url?.startsWith(p) ?? false),
      }),
      // CLIENT spans of PostgreSQL queries made while handling something traced (a history batch, an API
      // request); the polling loops (timers, schedules) run outside any span and make none.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
    // Traces only: no metric readers and no log processors, whatever OTEL_METRICS_EXPORTER /
    // OTEL_LOGS_EXPORTER say (metrics are scraped from /metrics).
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    enabled: true,
    forceFlush: () => spanProcessor.forceFlush(),
    shutdown() {
      stopping ??= sdk.shutdown().finally(() => {
        trace.disable();
        propagation.disable();
        context.disable();
        if (active === handle) active = undefined;
      });
      return stopping;
    },
  };
  active = handle;
  return handle;
}
