import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';

import { BatonError, validationError } from '@baton/contracts';

import { BatonExceptionFilter } from './baton-exception.filter';
import { toErrorResponse } from './error-response';

/** An http-errors error as body-parser throws it. */
function parserError(type: string, status: number, extra: Record<string, string | number> = {}): Error {
  return Object.assign(new Error(String(extra['message'] ?? 'failed')), {
    type,
    status,
    statusCode: status,
    expose: true,
    ...extra,
  });
}

describe('toErrorResponse', () => {
  it('renders a BatonError with its status, code, message and details', () => {
    const err = validationError('definition is invalid', [
      { path: '/steps/0/id', message: 'required', rule: 'required' },
    ]);
    expect(toErrorResponse(err)).toEqual({
      status: 422,
      fault: false,
      body: {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'definition is invalid',
          details: [{ path: '/steps/0/id', message: 'required', rule: 'required' }],
        },
      },
    });
    expect(toErrorResponse(new BatonError('NOT_FOUND', 'no workflow x')).status).toBe(404);
    expect(toErrorResponse(new BatonError('CONFLICT', 'exists')).status).toBe(409);
    expect(toErrorResponse(new BatonError('UNAVAILABLE', 'down'))).toMatchObject({
      status: 503,
      fault: false,
    });
    expect(toErrorResponse(new BatonError('EXPRESSION_FAILED', 'boom'))).toMatchObject({
      status: 500,
      fault: true,
    });
  });

  it('maps Nest HTTP exceptions by status', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /nope'))).toEqual({
      status: 404,
      fault: false,
      body: { error: { code: 'NOT_FOUND', message: 'Cannot GET /nope' } },
    });
    expect(toErrorResponse(new BadRequestException(['name must be a string', 'id is required']))).toEqual({
      status: 400,
      fault: false,
      body: {
        error: {
          code: 'BAD_REQUEST',
          message: 'name must be a string; id is required',
          details: [
            { path: '', message: 'name must be a string' },
            { path: '', message: 'id is required' },
          ],
        },
      },
    });
    expect(toErrorResponse(new ForbiddenException()).body.error.code).toBe('UNAUTHORIZED');
    expect(toErrorResponse(new HttpException('teapot', 418)).body.error).toEqual({
      code: 'BAD_REQUEST',
      message: 'teapot',
    });
    expect(toErrorResponse(new ServiceUnavailableException('later')).body.error.code).toBe('UNAVAILABLE');
  });

  it('hides the message of server faults', () => {
    expect(toErrorResponse(new InternalServerErrorException('db password is hunter2'))).toEqual({
      status: 500,
      fault: true,
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
    });
    expect(toErrorResponse(new Error('secret detail'))).toEqual({
      status: 500,
      fault: true,
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
    });
    expect(toErrorResponse('thrown string').status).toBe(500);
  });

  it('names the limit of a too large body, raw or wrapped by Nest', () => {
    const raw = parserError('entity.too.large', 413, { limit: 1024, length: 4096 });
    expect(toErrorResponse(raw)).toEqual({
      status: 413,
      fault: false,
      body: {
        error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the limit of 1024 bytes' },
      },
    });
    const wrapped = new PayloadTooLargeException('request entity too large', { cause: raw });
    expect(toErrorResponse(wrapped).body.error.message).toBe(
      'request body is larger than the limit of 1024 bytes',
    );
  });

  it('renders bad JSON as BAD_REQUEST and unsupported charsets as 415', () => {
    const bad = parserError('entity.parse.failed', 400, { message: "Unexpected token 'x'" });
    expect(toErrorResponse(new BadRequestException('x', { cause: bad }))).toEqual({
      status: 400,
      fault: false,
      body: {
        error: { code: 'BAD_REQUEST', message: "request body is not valid JSON: Unexpected token 'x'" },
      },
    });
    expect(toErrorResponse(parserError('charset.unsupported', 415, { charset: 'latin1' }))).toMatchObject({
      status: 415,
      body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported charset "latin1"; use utf-8' } },
    });
  });
});

describe('BatonExceptionFilter', () => {
  function hostFor(type: string, response: object = {}): ArgumentsHost {
    return {
      getType: () => type,
      switchToHttp: () => ({
        getRequest: () => ({ method: 'POST', url: '/v1/workflows' }),
        getResponse: () => response,
        getNext: () => undefined,
      }),
    } as unknown as ArgumentsHost;
  }

  it('replies through the HTTP adapter', () => {
    const reply = jest.fn();
    const filter = new BatonExceptionFilter({ httpAdapter: { reply } } as unknown as HttpAdapterHost);
    const response = {};
    filter.catch(new BatonError('CONFLICT', 'workflow x version 3 exists'), hostFor('http', response));
    expect(reply).toHaveBeenCalledWith(
      response,
      { error: { code: 'CONFLICT', message: 'workflow x version 3 exists' } },
      409,
    );
  });

  it('logs server faults and does not write a response twice', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const reply = jest.fn();
      const filter = new BatonExceptionFilter({ httpAdapter: { reply } } as unknown as HttpAdapterHost);
      const err = new Error('late');
      filter.catch(err, hostFor('http', { headersSent: true }));
      expect(reply).not.toHaveBeenCalled();
      expect(logged).toHaveBeenCalledWith(
        { err, method: 'POST', url: '/v1/workflows' },
        'unhandled error on POST /v1/workflows',
      );
    } finally {
      logged.mockRestore();
    }
  });

  it('hands errors of other contexts back unchanged', async () => {
    const filter = new BatonExceptionFilter({
      httpAdapter: { reply: jest.fn() },
    } as unknown as HttpAdapterHost);
    const err = new BatonError('TASK_FAILED', 'x');
    const result = filter.catch(err, hostFor('rpc'));
    expect(isObservable(result)).toBe(true);
    await expect(lastValueFrom(result as never)).rejects.toBe(err);
  });
});
