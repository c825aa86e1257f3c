import { Writable } from 'node:stream';

import { context, trace } from '@opentelemetry/api';
import pino from 'pino';

import { loggerOptions } from './logger.options';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('loggerOptions', () => {
  it('writes JSON named after the service at the configured level', () => {
    const out = capture();
    const logger = pino(loggerOptions('baton-test', 'warn'), out.stream);
    logger.info('hidden');
    logger.warn('shown');
    expect(out.lines()).toEqual([expect.objectContaining({ name: 'baton-test', level: 40, msg: 'shown' })]);
  });

  it('redacts authorization headers and passwords in URLs', () => {
    const out = capture();
    const logger = pino(loggerOptions('baton-test', 'info'), out.stream);
    logger.info(
      { req: { headers: { authorization: 'Bearer s3cret' } }, url: 'postgres://u:hunter2@db/x' },
      'connecting to nats://a:pw@h:4222',
    );
    const [line] = out.lines();
    expect(JSON.stringify(line)).not.toMatch(/s3cret|hunter2|:pw@/);
    expect(line).toMatchObject({
      req: { headers: { authorization: '[redacted]' } },
      url: 'postgres://u:***@db/x',
      msg: 'connecting to nats://a:***@h:4222',
    });
  });

  it('adds trace_id and span_id of the active span', () => {
    const out = capture();
    const logger = pino(loggerOptions('baton-test', 'info'), out.stream);
    const span = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    // No context manager is registered in unit tests: make the span active through the API's getter.
    const active = jest.spyOn(trace, 'getActiveSpan').mockReturnValue(span);
    try {
      logger.info('inside');
    } finally {
      active.mockRestore();
    }
    logger.info('outside');
    expect(out.lines()).toEqual([
      expect.objectContaining({
        msg: 'inside',
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b7ad6b7169203331',
      }),
      expect.not.objectContaining({ trace_id: expect.anything() }),
    ]);
    expect(context.active()).toBeDefined();
  });
});
