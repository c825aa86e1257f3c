/**
 * Keeps docker-compose.yml in step with the repository without needing Docker: every app has its service,
 * with the right command, port, settings (CONTRACT §1) and health check, and every file the stack mounts or
 * builds from exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { parse } from 'yaml';

import { REPO_ROOT } from './testing/run-esm';

/** CONTRACT §1 default ports. */
const CONTRACT_PORTS: Record<string, number> = {
  orchestrator: 8081,
  scheduler: 8082,
  'rule-engine': 8083,
  'state-store': 8084,
  telemetry: 8085,
};
const DATABASE_SERVICES = ['state-store', 'rule-engine', 'scheduler', 'telemetry'];
const OTLP_ENDPOINT = 'http://jaeger:4318';

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | null> | string[];
  ports?: (string | { target: number; published?: number | string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  configs?: (string | { source: string })[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { file?: string }>;
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as ComposeFile;
const services = compose.services;

const dirsIn = (dir: string): string[] => {
  const abs = path.join(REPO_ROOT, dir);
  return existsSync(abs) ? readdirSync(abs).filter((n) => statSync(path.join(abs, n)).isDirectory()) : [];
};
const apps = dirsIn('apps');

const commandOf = (s: ComposeService): string =>
  Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? '');

const envOf = (s: ComposeService): Record<string, string> => {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
};

const healthTest = (s: ComposeService): string => {
  const test = s.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
};

describe('docker-compose.yml', () => {
  it('has the five services of the contract, matching apps/', () => {
    expect(apps.sort()).toEqual(Object.keys(CONTRACT_PORTS).sort());
  });

  describe.each(apps.map((app) => [app]))('service %s', (app) => {
    const service = (): ComposeService => {
      const s = services[app];
      if (!s) throw new Error(`docker-compose.yml has no service "${app}"`);
      return s;
    };

    it('runs the app from the shared image', () => {
      expect(commandOf(service())).toBe(`node dist/apps/${app}/src/main.js`);
      expect(service().build).toBeDefined();
    });

    it('listens on its CONTRACT port and publishes it', () => {
      const port = CONTRACT_PORTS[app];
      expect(envOf(service()).PORT).toBe(String(port));
      expect((service().ports ?? []).map(String)).toContain(`${port}:${port}`);
    });

    it('gets NATS_URL, the OTLP endpoint, and DATABASE_URL exactly when it uses the database', () => {
      const env = envOf(service());
      expect(env.NATS_URL).toBe('nats://nats:4222');
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(OTLP_ENDPOINT);
      if (DATABASE_SERVICES.includes(app)) {
        expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\/baton$/);
      } else {
        expect(env).not.toHaveProperty('DATABASE_URL');
      }
    });

    it('is healthy when GET /health/ready on its port answers', () => {
      expect(healthTest(service())).toContain(`http://127.0.0.1:${CONTRACT_PORTS[app]}/health/ready`);
    });

    it('starts after NATS (and PostgreSQL) are healthy', () => {
      const deps = service().depends_on;
      expect(deps).toBeDefined();
      expect(Array.isArray(deps)).toBe(false);
      const conditions = deps as Record<string, { condition?: string }>;
      expect(conditions.nats?.condition).toBe('service_healthy');
      if (DATABASE_SERVICES.includes(app)) expect(conditions.postgres?.condition).toBe('service_healthy');
      else expect(conditions).not.toHaveProperty('postgres');
    });
  });

  it('runs the example worker after the orchestrator is healthy', () => {
    const worker = services['order-worker'];
    expect(worker).toBeDefined();
    expect(commandOf(worker!)).toBe('node dist/examples/order-worker/src/main.js');
    expect(envOf(worker!).NATS_URL).toBe('nats://nats:4222');
    expect(envOf(worker!).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(OTLP_ENDPOINT);
    const deps = worker!.depends_on as Record<string, { condition?: string }>;
    expect(deps.orchestrator?.condition).toBe('service_healthy');
  });

  it('runs NATS with JetStream on a volume, PostgreSQL 15 with a health check, Jaeger with OTLP', () => {
    expect(services.nats?.image).toMatch(/^nats:2\.(1\d|[2-9]\d)/);
    expect(commandOf(services.nats!)).toMatch(/-js -sd \/data -m 8222/);
    expect((services.nats?.volumes ?? []).map(String)).toContain('nats-data:/data');
    expect(services.postgres?.image).toMatch(/^postgres:15/);
    expect(healthTest(services.postgres!)).toContain('pg_isready');
    expect(envOf(services.jaeger!).COLLECTOR_OTLP_ENABLED).toBe('true');
    expect((services.jaeger?.ports ?? []).map(String)).toEqual(
      expect.arrayContaining(['4317:4317', '4318:4318', '16686:16686']),
    );
  });

  it('references only apps and examples that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const match of commandOf(service).matchAll(/dist\/(apps|examples)\/([^/]+)\//g)) {
        expect([name, existsSync(path.join(REPO_ROOT, match[1]!, match[2]!))]).toEqual([name, true]);
      }
    }
  });

  it('builds from files and mounts files that exist in the repository', () => {
    const missing: string[] = [];
    const check = (ref: string, what: string): void => {
      if (!existsSync(path.join(REPO_ROOT, ref))) missing.push(`${what}: ${ref}`);
    };
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) {
        const build = typeof service.build === 'string' ? { context: service.build } : service.build;
        const context = build.context ?? '.';
        check(context, `${name} build context`);
        check(path.join(context, build.dockerfile ?? 'Dockerfile'), `${name} Dockerfile`);
      }
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
        if (source.startsWith('.') || source.startsWith('/')) check(source, `${name} volume`);
        else
          expect([name, source, Object.keys(compose.volumes ?? {}).includes(source)]).toEqual([
            name,
            source,
            true,
          ]);
      }
    }
    for (const [name, config] of Object.entries(compose.configs ?? {})) {
      if (config.file) check(config.file, `config ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it('gives the image what the healthcheck runs', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('COPY scripts/healthcheck.mjs');
    expect(dockerfile).toMatch(/RUN npx swc apps libs examples -d dist --config-file \.swcrc/);
    for (const dir of ['apps', 'libs', 'examples']) expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
    expect(existsSync(path.join(REPO_ROOT, 'scripts/healthcheck.mjs'))).toBe(true);
  });
});
