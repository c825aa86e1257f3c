import { isConfigError, loadConfig, redactUrlPassword } from './config.loader';
import type { ConfigError } from './config.loader';
import { commonEnvSchema, databaseEnvSchema, databaseServiceEnvSchema } from './env.schema';

function errorOf(
  env: Record<string, string>,
  schema: typeof commonEnvSchema | typeof databaseServiceEnvSchema = commonEnvSchema,
): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (err) {
    if (isConfigError(err)) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults of CONTRACT §1', () => {
    expect(loadConfig(databaseServiceEnvSchema, {})).toEqual({
      NATS_URL: ['nats://127.0.0.1:4222'],
      LOG_LEVEL: 'info',
      BATON_MAX_PAYLOAD_BYTES: 262144,
      BATON_MAX_JSON_DEPTH: 32,
      BATON_DRAIN_TIMEOUT_MS: 10000,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/baton',
    });
  });

  it('parses every key', () => {
    const config = loadConfig(databaseServiceEnvSchema, {
      NATS_URL: 'nats://a:4222, tls://b:4223,c:4224',
      NATS_CREDS: __filename,
      NATS_USER: 'baton',
      NATS_PASSWORD: 'secret',
      PORT: '8082',
      LOG_LEVEL: 'debug',
      BATON_API_TOKEN: 'tok',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      BATON_MAX_PAYLOAD_BYTES: '1024',
      BATON_MAX_JSON_DEPTH: '8',
      BATON_DRAIN_TIMEOUT_MS: '0',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      UNRELATED: 'ignored',
    });
    expect(config).toEqual({
      NATS_URL: ['nats://a:4222', 'tls://b:4223', 'c:4224'],
      NATS_CREDS: __filename,
      NATS_USER: 'baton',
      NATS_PASSWORD: 'secret',
      PORT: 8082,
      LOG_LEVEL: 'debug',
      BATON_API_TOKEN: 'tok',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      BATON_MAX_PAYLOAD_BYTES: 1024,
      BATON_MAX_JSON_DEPTH: 8,
      BATON_DRAIN_TIMEOUT_MS: 0,
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig(commonEnvSchema, { PORT: '', BATON_API_TOKEN: '' })).not.toHaveProperty('PORT');
    expect(loadConfig(commonEnvSchema, { BATON_API_TOKEN: '' }).BATON_API_TOKEN).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc', 'invalid configuration: PORT must be an integer between 1 and 65535 (got "abc")'],
    ['PORT', '0', 'invalid configuration: PORT must be an integer between 1 and 65535 (got "0")'],
    ['PORT', '65536', 'invalid configuration: PORT must be an integer between 1 and 65535 (got "65536")'],
    ['PORT', '80.5', 'invalid configuration: PORT must be an integer between 1 and 65535 (got "80.5")'],
    [
      'NATS_URL',
      'nats://a:4222,,b',
      'invalid configuration: NATS_URL must be a comma-separated list of NATS server URLs (nats://host:port) (got "nats://a:4222,,b")',
    ],
    [
      'NATS_URL',
      'http://a:4222',
      'invalid configuration: NATS_URL must be a comma-separated list of NATS server URLs (nats://host:port) (got "http://a:4222")',
    ],
    [
      'NATS_CREDS',
      '/nonexistent/baton.creds',
      'invalid configuration: NATS_CREDS must be the path of a readable file (got "/nonexistent/baton.creds")',
    ],
    [
      'LOG_LEVEL',
      'verbose',
      'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'localhost:4318',
      'invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (got "localhost:4318")',
    ],
    [
      'BATON_MAX_PAYLOAD_BYTES',
      '-1',
      'invalid configuration: BATON_MAX_PAYLOAD_BYTES must be an integer between 1 and 67108864 (got "-1")',
    ],
    [
      'BATON_MAX_JSON_DEPTH',
      'deep',
      'invalid configuration: BATON_MAX_JSON_DEPTH must be an integer between 1 and 1000 (got "deep")',
    ],
    [
      'BATON_DRAIN_TIMEOUT_MS',
      '1e4',
      'invalid configuration: BATON_DRAIN_TIMEOUT_MS must be an integer between 0 and 600000 (got "1e4")',
    ],
  ])('names %s when it is %j', (key, value, line) => {
    const err = errorOf({ [key]: value });
    expect(err.message).toBe(line);
    expect(err.issues).toEqual([{ key, problem: expect.any(String) }]);
    expect(err.code).toBe('VALIDATION_FAILED');
  });

  it('requires NATS_USER and NATS_PASSWORD together', () => {
    expect(errorOf({ NATS_USER: 'baton' }).message).toBe(
      'invalid configuration: NATS_PASSWORD must be set when NATS_USER is set',
    );
    expect(errorOf({ NATS_PASSWORD: 'secret' }).message).toBe(
      'invalid configuration: NATS_USER must be set when NATS_PASSWORD is set',
    );
  });

  it('checks DATABASE_URL and hides its password', () => {
    expect(errorOf({ DATABASE_URL: 'mysql://root:hunter2@db/x' }, databaseServiceEnvSchema).message).toBe(
      'invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL (got "mysql://root:***@db/x")',
    );
    expect(loadConfig(databaseEnvSchema, {})).toEqual({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/baton',
    });
  });

  it('never prints secrets', () => {
    const err = errorOf({ NATS_USER: 'u', NATS_PASSWORD: ' ', BATON_API_TOKEN: ' ' });
    expect(err.message).not.toContain('"');
    expect(err.message.split('\n')).toEqual([
      'invalid configuration: NATS_PASSWORD must not be empty (got a value of 1 characters)',
      'invalid configuration: BATON_API_TOKEN must not be empty (got a value of 1 characters)',
    ]);
  });

  it('reports one line per bad key', () => {
    const err = errorOf({ PORT: 'x', LOG_LEVEL: 'loud', NATS_URL: '' });
    expect(err.message.split('\n')).toHaveLength(2);
    expect(err.issues.map((i) => i.key)).toEqual(['PORT', 'LOG_LEVEL']);
  });
});

describe('redactUrlPassword', () => {
  it('masks passwords in URLs only', () => {
    expect(redactUrlPassword('connect nats://a:b@h:4222 and postgres://u:p%40x@db/x')).toBe(
      'connect nats://a:***@h:4222 and postgres://u:***@db/x',
    );
    expect(redactUrlPassword('postgres://postgres@127.0.0.1:5432/baton')).toBe(
      'postgres://postgres@127.0.0.1:5432/baton',
    );
    expect(redactUrlPassword('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318');
  });
});
