import { HistoryRequestDto, ListExecutionsQueryDto } from '../executions/executions.dto';
import { DeadLetterKeyDto, ListDeadLettersQueryDto } from '../dead-letters/dead-letters.dto';
import { parseParams } from './request-params';

const badRequest = (param: string) =>
  expect.objectContaining({
    code: 'BAD_REQUEST',
    message: expect.stringContaining(`'${param}'`),
    details: [expect.objectContaining({ path: param })],
  });

describe('parseParams', () => {
  it('converts query strings and keeps JSON numbers', () => {
    expect(
      parseParams(ListExecutionsQueryDto, {
        workflowId: 'wf-a',
        status: 'RUNNING',
        limit: '20',
        from: '2026-01-01T00:00:00Z',
      }),
    ).toEqual({
      workflowId: 'wf-a',
      status: 'RUNNING',
      limit: 20,
      from: '2026-01-01T00:00:00Z',
    });
    expect(parseParams(HistoryRequestDto, { id: 'e-1', afterSeq: 5, limit: 10 })).toEqual({
      id: 'e-1',
      afterSeq: 5,
      limit: 10,
    });
    expect(parseParams(ListDeadLettersQueryDto, { includeResolved: 'true' })).toEqual({
      includeResolved: true,
    });
    expect(parseParams(DeadLetterKeyDto, { stream: 'BATON_TASKS', sequence: '42' })).toEqual({
      stream: 'BATON_TASKS',
      sequence: 42,
    });
    expect(parseParams(ListExecutionsQueryDto, undefined)).toEqual({});
  });

  it.each([
    ['limit', { limit: '0' }],
    ['limit', { limit: '501' }],
    ['limit', { limit: 'ten' }],
    ['limit', { limit: '1.5' }],
    ['limit', { limit: ['1', '2'] }],
    ['status', { status: 'DONE' }],
    ['from', { from: 'yesterday' }],
    ['to', { to: '2026-13-01T00:00:00Z' }],
    ['workflowId', { workflowId: 'Not Valid' }],
    ['cursor', { cursor: 'x'.repeat(2000) }],
    ['workflow_id', { workflow_id: 'wf-a' }],
  ])('names the bad parameter %s', (param, query) => {
    expect(() => parseParams(ListExecutionsQueryDto, query)).toThrow(badRequest(param));
  });

  it('names bad history and dead-letter parameters', () => {
    expect(() => parseParams(HistoryRequestDto, { id: 'e', afterSeq: '-1' })).toThrow(badRequest('afterSeq'));
    expect(() => parseParams(HistoryRequestDto, { afterSeq: 1 })).toThrow(badRequest('id'));
    expect(() => parseParams(ListDeadLettersQueryDto, { includeResolved: 'yes' })).toThrow(
      badRequest('includeResolved'),
    );
    expect(() => parseParams(DeadLetterKeyDto, { stream: 'S', sequence: '0' })).toThrow(
      badRequest('sequence'),
    );
  });

  it('lists every bad parameter', () => {
    let thrown: unknown;
    try {
      parseParams(ListExecutionsQueryDto, { limit: 'x', status: 'y' });
    } catch (err) {
      thrown = err;
    }
    expect((thrown as { details: { path: string }[] }).details.map((d) => d.path).sort()).toEqual([
      'limit',
      'status',
    ]);
  });

  it('rejects a non-object request', () => {
    expect(() => parseParams(ListExecutionsQueryDto, [1])).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    expect(() => parseParams(ListExecutionsQueryDto, 'x')).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
  });
});
