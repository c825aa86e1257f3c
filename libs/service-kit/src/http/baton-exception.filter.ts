import { Catch, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';

import { toErrorResponse } from './error-response';

/**
 * The one HTTP exception filter: every error becomes `{ error: { code, message, details } }` with its status
 * (see {@link toErrorResponse}); server faults are logged with their stack, never shown.
 * Non-HTTP contexts (the JetStream transport) get the error back untouched.
 */
@Catch()
export class BatonExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('BatonExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() !== 'http') return throwError(() => exception);
    const { status, body, fault } = toErrorResponse(exception);
    const http = host.switchToHttp();
    if (fault) {
      const request = http.getRequest<{ method?: string; url?: string }>();
      this.logger.error(
        { err: exception, method: request.method, url: request.url },
        `unhandled error on ${request.method ?? '?'} ${request.url ?? '?'}`,
      );
    }
    const response = http.getResponse<{ headersSent?: boolean }>();
    if (response.headersSent) return;
    this.adapterHost.httpAdapter.reply(response, body, status);
  }
}
