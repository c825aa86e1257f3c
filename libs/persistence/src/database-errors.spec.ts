import { DatabaseErrorKind, classifyDatabaseError, toBatonDatabaseError } from './database-errors';

const pgError = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });
/** What TypeORM throws: a QueryFailedError carrying the driver error. */
const queryFailed = (driverError: Error): Error =>
  Object.assign(new Error(driverError.message), { name: 'QueryFailedError', driverError });

describe('classifyDatabaseError', () => {
  it.each([
    ['22P05', DatabaseErrorKind.DATA], // untranslatable character (U+0000 in jsonb)
    ['22007', DatabaseErrorKind.DATA], // invalid datetime format
    ['23502', DatabaseErrorKind.DATA], // not null violation
    ['08006', DatabaseErrorKind.UNAVAILABLE], // connection failure
    ['57P01', DatabaseErrorKind.UNAVAILABLE], // admin shutdown
    ['53300', DatabaseErrorKind.UNAVAILABLE], // too many connections
    ['40P01', DatabaseErrorKind.UNAVAILABLE], // deadlock
    ['42P01', DatabaseErrorKind.OTHER], // undefined table
  ])('SQLSTATE %s through QueryFailedError is %s', (code, kind) => {
    expect(classifyDatabaseError(queryFailed(pgError(code)))).toBe(kind);
    expect(classifyDatabaseError(pgError(code))).toBe(kind);
  });

  it('treats refused and reset sockets and lost connections as unavailable', () => {
    expect(classifyDatabaseError(pgError('ECONNREFUSED'))).toBe(DatabaseErrorKind.UNAVAILABLE);
    expect(classifyDatabaseError(new Error('x', { cause: pgError('ECONNRESET') }))).toBe(
      DatabaseErrorKind.UNAVAILABLE,
    );
    expect(classifyDatabaseError(Object.assign(new AggregateError([pgError('ECONNREFUSED')]), {}))).toBe(
      DatabaseErrorKind.UNAVAILABLE,
    );
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(
      DatabaseErrorKind.UNAVAILABLE,
    );
    expect(classifyDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe(
      DatabaseErrorKind.UNAVAILABLE,
    );
  });

  it('treats unknown errors as other', () => {
    expect(classifyDatabaseError(new TypeError('x is undefined'))).toBe(DatabaseErrorKind.OTHER);
    expect(classifyDatabaseError('string')).toBe(DatabaseErrorKind.OTHER);
  });
});

describe('toBatonDatabaseError', () => {
  it('maps data errors to non-retryable VALIDATION_FAILED', () => {
    const err = toBatonDatabaseError(
      queryFailed(pgError('22P05', 'unsupported Unicode escape sequence')),
      'writing e-1',
    );
    expect(err).toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
      context: { sqlState: '22P05' },
    });
    expect(err.message).toContain('writing e-1');
    expect(err.message).toContain('unsupported Unicode escape sequence');
  });

  it('maps an unreachable database to retryable UNAVAILABLE and other errors to retryable INTERNAL', () => {
    expect(toBatonDatabaseError(pgError('ECONNREFUSED'), 'x')).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(toBatonDatabaseError(pgError('42P01'), 'x')).toMatchObject({ code: 'INTERNAL', retryable: true });
  });
});
