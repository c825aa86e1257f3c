import type { ServerResponse } from 'node:http';

import { isBatonError } from '@baton/contracts';

import {
  apiTokenGuard,
  hasBody,
  isAuthorized,
  limitJsonDepth,
  mediaTypeOf,
  parseYaml,
  parseYamlBody,
  requireSupportedMediaType,
} from './http-pipeline';
import type { PipelineMiddleware, PipelineRequest } from './http-pipeline';

function request(headers: Record<string, string>, body?: unknown): PipelineRequest {
  return { headers, body } as unknown as PipelineRequest;
}

function fakeResponse(): ServerResponse & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    headers,
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value;
      return this;
    },
  } as unknown as ServerResponse & { headers: Record<string, string> };
}

/** Runs a middleware and returns what it passed to `next`. */
function run(
  mw: PipelineMiddleware,
  req: PipelineRequest,
  res = fakeResponse(),
): { called: boolean; err: unknown } {
  const out = { called: false, err: undefined as unknown };
  mw(req, res, (err?: unknown) => {
    out.called = true;
    out.err = err;
  });
  return out;
}

describe('isAuthorized', () => {
  it('accepts exactly the configured bearer token', () => {
    expect(isAuthorized('Bearer s3cret', 's3cret')).toBe(true);
    expect(isAuthorized('bearer s3cret', 's3cret')).toBe(true);
    expect(isAuthorized('Bearer s3cret ', 's3cret')).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isAuthorized(undefined, 's3cret')).toBe(false);
    expect(isAuthorized('', 's3cret')).toBe(false);
    expect(isAuthorized('Bearer', 's3cret')).toBe(false);
    expect(isAuthorized('Bearer s3cre', 's3cret')).toBe(false);
    expect(isAuthorized('Bearer s3cretX', 's3cret')).toBe(false);
    expect(isAuthorized('Basic s3cret', 's3cret')).toBe(false);
    expect(isAuthorized('Bearer s3cret extra', 's3cret')).toBe(false);
  });
});

describe('apiTokenGuard', () => {
  const guard = apiTokenGuard('s3cret');

  it('lets an authorized request through', () => {
    expect(run(guard, request({ authorization: 'Bearer s3cret' }))).toEqual({ called: true, err: undefined });
  });

  it('fails a request without token with UNAUTHORIZED and a challenge', () => {
    const res = fakeResponse();
    const { err } = run(guard, request({}), res);
    expect(isBatonError(err) && err.code).toBe('UNAUTHORIZED');
    expect((err as Error).message).toMatch(/missing bearer token/);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="baton"');
  });

  it('fails a wrong token with UNAUTHORIZED', () => {
    const { err } = run(guard, request({ authorization: 'Bearer nope' }));
    expect(isBatonError(err) && err.code).toBe('UNAUTHORIZED');
    expect((err as Error).message).toBe('invalid bearer token');
  });
});

describe('requireSupportedMediaType', () => {
  it('reads media types and bodies like body-parser', () => {
    expect(mediaTypeOf(request({ 'content-type': 'Application/JSON; charset=utf-8' }))).toBe(
      'application/json',
    );
    expect(mediaTypeOf(request({}))).toBe('');
    expect(hasBody(request({ 'content-length': '0' }))).toBe(false);
    expect(hasBody(request({ 'content-length': '2' }))).toBe(true);
    expect(hasBody(request({ 'transfer-encoding': 'chunked' }))).toBe(true);
  });

  it.each([
    'application/json',
    'application/merge-patch+json',
    'application/yaml',
    'text/yaml',
    'application/x-yaml',
  ])('accepts %s bodies', (type) => {
    expect(
      run(requireSupportedMediaType, request({ 'content-type': type, 'content-length': '2' })).err,
    ).toBeUndefined();
  });

  it('rejects other bodies with 415', () => {
    const { err } = run(
      requireSupportedMediaType,
      request({ 'content-type': 'text/plain', 'content-length': '2' }),
    );
    expect(isBatonError(err) && err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((err as Error).message).toBe(
      'unsupported content type "text/plain"; send application/json or application/yaml',
    );
    const none = run(requireSupportedMediaType, request({ 'content-length': '2' })).err;
    expect((none as Error).message).toMatch(/"\(none\)"/);
  });

  it('ignores requests without a body', () => {
    expect(run(requireSupportedMediaType, request({ 'content-type': 'text/plain' }))).toEqual({
      called: true,
      err: undefined,
    });
  });
});

describe('YAML bodies', () => {
  it('parses a YAML document', () => {
    expect(
      parseYamlBody('id: order-fulfillment\nversion: 3\nsteps:\n  - id: reserve\n    type: task\n'),
    ).toEqual({
      id: 'order-fulfillment',
      version: 3,
      steps: [{ id: 'reserve', type: 'task' }],
    });
  });

  it.each([
    ['a: 1\nb: [1, 2\nc: 3', /at line 3, column 1$/],
    ['key: "unterminated', /^request body is not valid YAML: Missing closing "quote at line 1, column 19$/],
    ['a: 1\na: 2', /^request body is not valid YAML: Map keys must be unique at line 2, column 1$/],
    ['a: 1\n---\nb: 2', /multiple documents.* at line 2, column 1$/],
  ])('names line and column of a syntax error in %j', (text, message) => {
    let caught: unknown;
    try {
      parseYamlBody(text);
    } catch (err) {
      caught = err;
    }
    expect(isBatonError(caught) && caught.code).toBe('BAD_REQUEST');
    expect((caught as Error).message).toMatch(message);
  });

  it('rejects alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(
        `${name}: &${name} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    expect(() => parseYamlBody(lines.join('\n'))).toThrow(/not valid YAML/);
  });

  it('parses only YAML request bodies in the middleware', () => {
    const yaml = request({ 'content-type': 'application/yaml' }, 'a: [1, 2]');
    expect(run(parseYaml, yaml).err).toBeUndefined();
    expect(yaml.body).toEqual({ a: [1, 2] });

    const json = request({ 'content-type': 'application/json' }, 'a: 1');
    run(parseYaml, json);
    expect(json.body).toBe('a: 1');

    const bad = run(parseYaml, request({ 'content-type': 'text/yaml' }, 'a: [1'));
    expect(isBatonError(bad.err) && bad.err.code).toBe('BAD_REQUEST');
  });
});

describe('limitJsonDepth', () => {
  const mw = limitJsonDepth({ maxPayloadBytes: 1024, maxJsonDepth: 3 });

  it('accepts bodies within the depth limit', () => {
    expect(run(mw, request({}, { a: { b: [1] } })).err).toBeUndefined();
    expect(run(mw, request({}, 'text')).err).toBeUndefined();
  });

  it('rejects deeper bodies with VALIDATION_FAILED', () => {
    const { err } = run(mw, request({}, { a: { b: { c: [1] } } }));
    expect(isBatonError(err) && err.code).toBe('VALIDATION_FAILED');
    expect((err as Error).message).toBe('request body nests deeper than 3 levels');
  });
});
