/**
 * Keeps the observability stack of docker-compose.yml in step with the code, without Docker: Prometheus
 * scrapes every compose service of an app on the port it listens on, Jaeger takes OTLP where the services
 * send it, Grafana is provisioned, and the Grafana dashboard and the Prometheus alert rules use only
 * metric names (and labels) that the code registers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { parse } from 'yaml';

import { REPO_ROOT } from './testing/run-esm';

interface ComposeService {
  image?: string;
  environment?: Record<string, string | number | null> | string[];
  ports?: (string | { target: number; published?: number | string })[];
  volumes?: (string | { source?: string; target?: string })[];
  depends_on?: string[] | Record<string, unknown>;
}

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const apps = readdirSync(path.join(REPO_ROOT, 'apps')).filter((n) =>
  existsSync(path.join(REPO_ROOT, 'apps', n, 'project.json')),
);

const envOf = (s: ComposeService): Record<string, string> => {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.split('=')[0] ?? e, e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
};

/** Every TypeScript source file (no tests) under `dir`. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const abs = path.join(d, name);
      if (statSync(abs).isDirectory()) {
        if (name !== 'node_modules' && name !== 'test') walk(abs);
      } else if (name.endsWith('.ts') && !/\.(spec|integration-spec|e2e-spec)\.ts$/.test(name)) {
        out.push(abs);
      }
    }
  };
  walk(path.join(REPO_ROOT, dir));
  return out;
}

interface Registered {
  kind: 'counter' | 'gauge' | 'histogram';
  /** Undefined when the code builds the label list elsewhere (not checked). */
  labels?: string[];
}

const labelList = (src: string | undefined): string[] | undefined =>
  src === undefined ? undefined : [...src.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string);

/**
 * Metrics the code registers: `new Counter|Gauge|Histogram({ name: 'baton_…', labelNames: [...] })` and the
 * MetricsService helpers `metrics.counter|gauge|histogram('name', help, [labels])` (prefixed `baton_`).
 */
function registeredMetrics(): Map<string, Registered> {
  const found = new Map<string, Registered>();
  for (const file of [...sources('apps'), ...sources('libs')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /new (Counter|Gauge|Histogram)(?:<[^>]*>)?\(\{\s*name: '([a-z_:]+)',[\s\S]{0,400}?(?:labelNames: (\[[^\]]*\])|\}\))/g,
    )) {
      found.set(m[2] as string, {
        kind: (m[1] as string).toLowerCase() as Registered['kind'],
        labels: labelList(m[3]),
      });
    }
    for (const m of text.matchAll(
      /\.(counter|gauge|histogram)(?:<[^>]*>)?\(\s*'([a-z_]+)',\s*(?:'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(?:,\s*(\[[^\]]*\]))?/g,
    )) {
      const name = (m[2] as string).startsWith('baton_') ? (m[2] as string) : `baton_${m[2]}`;
      found.set(name, { kind: m[1] as Registered['kind'], labels: labelList(m[3]) });
    }
    // The consumer-lag collector's gauges: gauge('baton_consumer_…', help, pick) with stream/durable labels.
    for (const m of text.matchAll(/\bgauge\(\s*'(baton_consumer_[a-z_]+)'/g)) {
      found.set(m[1] as string, { kind: 'gauge', labels: ['stream', 'durable'] });
    }
  }
  return found;
}

const REGISTERED = registeredMetrics();
/** Labels every series has (set by prom-client or Prometheus) besides the metric's own. */
const COMMON_LABELS = ['service', 'job', 'instance', 'le'];

/** The registered metric a series name belongs to (`…_bucket|_sum|_count` of a histogram). */
function metricOf(series: string): Registered | undefined {
  const direct = REGISTERED.get(series);
  if (direct) return direct;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  const histogram = REGISTERED.get(base);
  return histogram?.kind === 'histogram' ? histogram : undefined;
}

/** Names of Baton series in a PromQL expression. */
const seriesIn = (expr: string) => [...new Set([...expr.matchAll(/\bbaton_[a-z0-9_]+\b/g)].map((m) => m[0]))];

/** Labels a PromQL expression or template uses: `by (...)`, `{label=...}`, `$labels.x`, `{{x}}`. */
function labelsUsed(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const l of (m[1] as string).split(',')) if (l.trim()) out.add(l.trim());
  }
  for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
    for (const l of (m[1] as string).matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) out.add(l[1] as string);
  }
  for (const m of text.matchAll(/\$labels\.([a-z_]+)/g)) out.add(m[1] as string);
  for (const m of text.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)) out.add(m[1] as string);
  return [...out];
}

/** Problems of one expression (with its legend or annotations): unknown series or labels. */
function problems(expr: string, templates: string[] = []): string[] {
  const out: string[] = [];
  const series = seriesIn(expr);
  const allowed = new Set(COMMON_LABELS);
  let checkLabels = true;
  for (const s of series) {
    const metric = metricOf(s);
    if (!metric) {
      out.push(`${s} is not registered by the code`);
      continue;
    }
    if (metric.labels === undefined) checkLabels = false;
    for (const l of metric.labels ?? []) allowed.add(l);
  }
  if (series.length > 0 && checkLabels) {
    for (const l of labelsUsed([expr, ...templates].join('\n'))) {
      if (!allowed.has(l)) out.push(`label ${l} is not a label of ${series.join(', ')}`);
    }
  }
  return out;
}

describe('metric names the code registers', () => {
  it('finds the metrics of the services and the shared kit', () => {
    for (const name of [
      'baton_executions_started_total',
      'baton_step_duration_seconds',
      'baton_consumer_pending_messages',
      'baton_messages_processed_total',
      'baton_message_processing_seconds',
      'baton_message_redeliveries_total',
      'baton_dead_letters_total',
      'baton_analytics_batches_total',
      'baton_alerts_firing',
    ]) {
      expect(REGISTERED.has(name)).toBe(true);
    }
    expect(REGISTERED.get('baton_step_duration_seconds')).toEqual({
      kind: 'histogram',
      labels: ['action', 'status'],
    });
    expect(REGISTERED.get('baton_dead_letters_total')?.labels).toEqual(['durable', 'code']);
    expect(problems('sum by (consumer) (baton_consumer_pending_messages)')).toEqual([
      'label consumer is not a label of baton_consumer_pending_messages',
    ]);
    expect(problems('rate(baton_nope_total[5m])')).toEqual([
      'baton_nope_total is not registered by the code',
    ]);
  });

  it('are the only ones the Grafana dashboard uses, with their labels', () => {
    const dashboard = JSON.parse(read('infra/grafana/dashboards/baton.json')) as {
      panels: { title: string; targets?: { expr: string; legendFormat?: string }[] }[];
    };
    const found: string[] = [];
    let series = 0;
    for (const panel of dashboard.panels) {
      for (const t of panel.targets ?? []) {
        series += seriesIn(t.expr).length;
        for (const p of problems(t.expr, t.legendFormat ? [t.legendFormat] : []))
          found.push(`${panel.title}: ${p}`);
      }
    }
    expect(series).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });

  it('are the only ones the Prometheus alert rules use, with their labels', () => {
    const alerts = parse(read('infra/prometheus/alerts.yml')) as {
      groups: { rules: { alert: string; expr: string; annotations?: Record<string, string> }[] }[];
    };
    const found: string[] = [];
    const used = new Set<string>();
    for (const rule of alerts.groups.flatMap((g) => g.rules)) {
      seriesIn(rule.expr).forEach((s) => used.add(s));
      for (const p of problems(rule.expr, Object.values(rule.annotations ?? {})))
        found.push(`${rule.alert}: ${p}`);
    }
    expect(found).toEqual([]);
    // Lag, failures, dead letters and redeliveries are alerted on.
    for (const name of [
      'baton_consumer_pending_messages',
      'baton_executions_failed_total',
      'baton_dead_letters_total',
      'baton_message_redeliveries_total',
    ]) {
      expect(used).toContain(name);
    }
  });
});

describe('docker-compose.yml observability', () => {
  const prometheus = parse(read('infra/prometheus/prometheus.yml')) as {
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };

  it.each(apps.map((a) => [a]))('Prometheus scrapes %s where its compose service listens', (app) => {
    const service = compose.services[app];
    expect(service).toBeDefined();
    const port = envOf(service!)['PORT'];
    expect(port).toMatch(/^\d+$/);
    const job = prometheus.scrape_configs.find((j) => j.job_name === `baton-${app}`);
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([`${app}:${port}`]);
  });

  it('scrapes nothing but the apps and Prometheus itself', () => {
    expect(prometheus.scrape_configs.map((j) => j.job_name).sort()).toEqual(
      [...apps.map((a) => `baton-${a}`), 'prometheus'].sort(),
    );
  });

  it('runs Jaeger with OTLP where every app exports, Prometheus with its rules, Grafana provisioned', () => {
    const jaeger = compose.services['jaeger'];
    expect(jaeger?.image).toMatch(/^jaegertracing\/all-in-one:/);
    expect(envOf(jaeger!)['COLLECTOR_OTLP_ENABLED']).toBe('true');
    for (const app of apps) {
      expect(envOf(compose.services[app]!)['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('http://jaeger:4318');
    }
    const mounts = (s: ComposeService | undefined) =>
      (s?.volumes ?? []).map((v) =>
        typeof v === 'string' ? v.split(':').slice(0, 2).join(':') : `${v.source}:${v.target}`,
      );
    expect(compose.services['prometheus']?.image).toMatch(/^prom\/prometheus:/);
    expect(mounts(compose.services['prometheus'])).toEqual(
      expect.arrayContaining([
        './infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml',
        './infra/prometheus/alerts.yml:/etc/prometheus/alerts.yml',
      ]),
    );
    const grafana = compose.services['grafana'];
    expect(grafana?.image).toMatch(/^grafana\/grafana/);
    const grafanaMounts = mounts(grafana).join('\n');
    expect(grafanaMounts).toContain('./infra/grafana/provisioning');
    expect(grafanaMounts).toContain('./infra/grafana/dashboards:/var/lib/grafana/dashboards');
  });
});
