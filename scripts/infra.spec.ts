/**
 * Keeps infra/ in step with apps/: every app has Kubernetes manifests with health probes, a systemd unit,
 * and a Prometheus scrape job; the alert rules and the dashboard use the metrics the services export; the
 * NATS configuration is the same everywhere it is shipped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { parse, parseAllDocuments } from 'yaml';

import { REPO_ROOT } from './testing/run-esm';

const CONTRACT_PORTS: Record<string, number> = {
  orchestrator: 8081,
  scheduler: 8082,
  'rule-engine': 8083,
  'state-store': 8084,
  telemetry: 8085,
};
const DATABASE_SERVICES = ['state-store', 'rule-engine', 'scheduler', 'telemetry'];

const read = (rel: string): string => readFileSync(path.join(REPO_ROOT, rel), 'utf8');
const apps = readdirSync(path.join(REPO_ROOT, 'apps')).filter((n) =>
  statSync(path.join(REPO_ROOT, 'apps', n)).isDirectory(),
);

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

function k8sObjects(file: string): K8sObject[] {
  return parseAllDocuments(read(file))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function podContainers(o: K8sObject): Container[] {
  const spec = o.spec as {
    template: { spec: { containers: Container[]; terminationGracePeriodSeconds?: number } };
  };
  return spec.template.spec.containers;
}

describe('infra/k8s', () => {
  const kustomization = parse(read('infra/k8s/kustomization.yaml')) as { resources: string[] };

  it.each(apps.map((a) => [a]))('%s has a Deployment and a Service with health probes', (app) => {
    const file = `infra/k8s/${app}.yaml`;
    expect(existsSync(path.join(REPO_ROOT, file))).toBe(true);
    expect(kustomization.resources).toContain(`${app}.yaml`);
    const objects = k8sObjects(file);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === app);
    expect(deployment).toBeDefined();
    expect(service).toBeDefined();

    const [container] = podContainers(deployment!);
    expect(container!.command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
    expect(container!.ports?.[0]?.containerPort).toBe(CONTRACT_PORTS[app]);
    expect(container!.env?.find((e) => e.name === 'PORT')?.value).toBe(String(CONTRACT_PORTS[app]));
    expect(container!.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container!.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(container!.envFrom?.map((e) => e.configMapRef?.name)).toContain('baton-config');
    expect(container!.env?.some((e) => e.name === 'DATABASE_URL')).toBe(DATABASE_SERVICES.includes(app));

    const ports = (service!.spec as { ports: { port: number }[] }).ports;
    expect(ports.map((p) => p.port)).toContain(CONTRACT_PORTS[app]);
  });

  it('runs the example worker', () => {
    const [deployment] = k8sObjects('infra/k8s/order-worker.yaml').filter((o) => o.kind === 'Deployment');
    expect(podContainers(deployment!)[0]!.command).toEqual([
      'node',
      'dist/examples/order-worker/src/main.js',
    ]);
    expect(kustomization.resources).toContain('order-worker.yaml');
  });

  it('shares NATS_URL through the ConfigMap and runs NATS with JetStream in a StatefulSet', () => {
    const [configMap] = k8sObjects('infra/k8s/configmap.yaml');
    expect(configMap!.data?.NATS_URL).toMatch(/^nats:\/\/nats[.:]/);
    const nats = k8sObjects('infra/k8s/nats.yaml');
    const statefulSet = nats.find((o) => o.kind === 'StatefulSet');
    expect(podContainers(statefulSet!)[0]!.args).toEqual(expect.arrayContaining(['-js', '-sd', '/data']));
    const natsConfig = nats.find((o) => o.kind === 'ConfigMap');
    expect(natsConfig!.data?.['nats.conf']).toBe(read('infra/nats/nats.conf'));
  });

  it('lists only files that exist', () => {
    for (const resource of kustomization.resources) {
      expect([resource, existsSync(path.join(REPO_ROOT, 'infra/k8s', resource))]).toEqual([resource, true]);
    }
  });
});

describe('infra/systemd', () => {
  const units = [...apps, 'order-worker'];

  it.each(units.map((u) => [u]))('baton-%s.service stops gracefully and reads its env file', (name) => {
    const file = `infra/systemd/baton-${name}.service`;
    expect(existsSync(path.join(REPO_ROOT, file))).toBe(true);
    const unit = read(file);
    const dir = name === 'order-worker' ? 'examples' : 'apps';
    expect(unit).toMatch(new RegExp(`^ExecStart=.*node dist/${dir}/${name}/src/main\\.js$`, 'm'));
    expect(unit).toMatch(new RegExp(`^EnvironmentFile=/etc/baton/${name}\\.env$`, 'm'));
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    const stop = /^TimeoutStopSec=(\d+)s$/m.exec(unit);
    expect(stop).not.toBeNull();
    // Must exceed the services' default drain timeout (BATON_DRAIN_TIMEOUT_MS = 10 s).
    expect(Number(stop![1])).toBeGreaterThan(10);
    if (name !== 'order-worker')
      expect(unit).toMatch(new RegExp(`^Environment=PORT=${CONTRACT_PORTS[name]}$`, 'm'));
  });
});

describe('infra/prometheus', () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    static_configs: { targets: string[] }[];
  }
  const prometheus = parse(read('infra/prometheus/prometheus.yml')) as {
    scrape_configs: ScrapeConfig[];
    rule_files: string[];
  };

  it.each(apps.map((a) => [a]))('scrapes %s at /metrics on its port', (app) => {
    const job = prometheus.scrape_configs.find((j) => j.job_name === `baton-${app}`);
    expect(job).toBeDefined();
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job!.static_configs.flatMap((c) => c.targets)).toContain(`${app}:${CONTRACT_PORTS[app]}`);
  });

  it('alerts on failed executions, consumer backlog and services down', () => {
    expect(prometheus.rule_files).toContain('/etc/prometheus/alerts.yml');
    const alerts = parse(read('infra/prometheus/alerts.yml')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const exprs = alerts.groups.flatMap((g) => g.rules).map((r) => r.expr);
    for (const metric of ['baton_executions_failed_total', 'baton_consumer_pending_messages', 'up']) {
      expect(exprs.some((e) => new RegExp(`\\b${metric}\\b`).test(e))).toBe(true);
    }
  });
});

describe('infra/grafana', () => {
  it('provisions Prometheus and Jaeger, and the dashboard folder', () => {
    const datasources = parse(read('infra/grafana/provisioning/datasources/baton.yml')) as {
      datasources: { uid: string; type: string }[];
    };
    expect(datasources.datasources.map((d) => d.type).sort()).toEqual(['jaeger', 'prometheus']);
    const providers = parse(read('infra/grafana/provisioning/dashboards/baton.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(providers.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards');
  });

  it('has a dashboard for throughput, step latency p95, failures and consumer lag', () => {
    const dashboard = JSON.parse(read('infra/grafana/dashboards/baton.json')) as {
      panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.some((e) => e.includes('rate(baton_executions_started_total'))).toBe(true);
    expect(exprs.some((e) => /histogram_quantile\(0\.95, .*baton_step_duration_seconds_bucket/.test(e))).toBe(
      true,
    );
    expect(exprs.some((e) => e.includes('baton_executions_failed_total'))).toBe(true);
    expect(exprs.some((e) => e.includes('baton_consumer_pending_messages'))).toBe(true);
    for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe('prometheus');
  });
});
