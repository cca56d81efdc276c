import { TapinError } from '@tapin/protocol';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

export function sendError(reply: FastifyReply, err: TapinError): FastifyReply {
  const retryAfter = err.details?.['retryAfter'];
  if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
  return reply.code(err.status).type('application/json').send(err.toJSON());
}

/**
 * Every failure leaves as `{error: {code, message}}` with a stable code from the shared registry. Validation and
 * parser errors keep their (harmless) description; anything unexpected is logged and answered as `internal`,
 * never with a stack trace or a driver's message.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof TapinError) return sendError(reply, error);
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      return sendError(reply, new TapinError('bad_request', `Invalid ${where}: ${error.message.replace(/^(body|querystring|params|headers)\s*/, '')}`));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, new TapinError('payload_too_large'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, new TapinError('bad_request', 'The body is not valid JSON.'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, new TapinError('bad_request', 'Send JSON (Content-Type: application/json).'));
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, new TapinError('bad_request'));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, new TapinError('internal'));
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, new TapinError('not_found')));
}
