import { MetricsService } from '../metrics/metrics.service';
import { outcomeRecorder } from './bootstrap-service';

const service = { name: 'test', version: '1.0.0', defaultPort: 1, description: 'test' };

function value(text: string, line: RegExp): number | undefined {
  const m = line.exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('outcomeRecorder', () => {
  it('counts deliveries, handler time, redeliveries and dead letters per durable', async () => {
    const metrics = new MetricsService(service);
    const record = outcomeRecorder(metrics);
    const base = { subject: 'baton.tasks.a', durationMs: 12 };
    record({ ...base, durable: 'task_a', outcome: 'ack', deliveryCount: 1 });
    record({ ...base, durable: 'task_a', outcome: 'nak', deliveryCount: 1, errorCode: 'UNAVAILABLE' });
    record({ ...base, durable: 'task_a', outcome: 'ack', deliveryCount: 2 });
    record({ ...base, durable: 'task_b', outcome: 'dead', deliveryCount: 5, errorCode: 'VALIDATION_FAILED' });
    const text = await metrics.scrape();
    expect(
      value(
        text,
        /^baton_messages_processed_total\{durable="task_a",outcome="ack",service="baton-test"\} (\d+)$/m,
      ),
    ).toBe(2);
    expect(
      value(text, /^baton_message_redeliveries_total\{durable="task_a",service="baton-test"\} (\d+)$/m),
    ).toBe(1);
    expect(
      value(text, /^baton_message_redeliveries_total\{durable="task_b",service="baton-test"\} (\d+)$/m),
    ).toBe(1);
    expect(
      value(
        text,
        /^baton_dead_letters_total\{durable="task_b",code="VALIDATION_FAILED",service="baton-test"\} (\d+)$/m,
      ),
    ).toBe(1);
    expect(value(text, /^baton_dead_letters_total\{durable="task_a"/m)).toBeUndefined();
    expect(
      value(
        text,
        /^baton_message_processing_seconds_count\{[^}]*durable="task_a"[^}]*outcome="ack"[^}]*\} (\d+)$/m,
      ),
    ).toBe(2);
  });
});
