import { Counter } from 'prom-client';

import { MetricsService } from './metrics.service';

const service = { name: 'test', version: '1.0.0', defaultPort: 1, description: 'test' };

describe('MetricsService', () => {
  it('exposes default metrics labelled with the service', async () => {
    const text = await new MetricsService(service).scrape();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="baton-test"\} \d/m);
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('prefixes names with baton_ and returns the same metric for the same name', async () => {
    const metrics = new MetricsService(service);
    const a = metrics.counter('executions_started_total', 'Executions started', ['workflow']);
    const b = metrics.counter('baton_executions_started_total', 'Executions started', ['workflow']);
    expect(a).toBe(b);
    expect(a).toBeInstanceOf(Counter);
    a.inc({ workflow: 'order' }, 2);
    metrics
      .histogram('step_duration_seconds', 'Step duration', ['type'], [0.1, 1])
      .observe({ type: 'task' }, 0.5);
    metrics.gauge('executions_running', 'Running executions').set(3);
    const text = await metrics.scrape();
    expect(text).toContain('baton_executions_started_total{workflow="order",service="baton-test"} 2');
    expect(text).toContain('baton_step_duration_seconds_bucket{le="1",service="baton-test",type="task"} 1');
    expect(text).toContain('baton_executions_running{service="baton-test"} 3');
  });

  it('keeps registries apart and rejects conflicting kinds and bad names', () => {
    const one = new MetricsService(service);
    const two = new MetricsService(service);
    expect(one.counter('x_total', 'x')).not.toBe(two.counter('x_total', 'x'));
    expect(() => one.gauge('x_total', 'x')).toThrow(/already registered as another kind/);
    expect(() => one.counter('bad-name', 'x')).toThrow(/invalid metric name/);
  });
});
