/**
 * The one place where errors become HTTP answers: `{ error: { code, message, details? } }`
 * with the status of DESIGN §7. Typed errors keep their code (the body parsers in
 * encoding.ts throw typed errors); fastify's own errors (body too large, unsupported media
 * type, schema validation, bad content length) are mapped to INVALID_REQUEST or TOO_LARGE;
 * anything else is a bug, logged and answered 500 INTERNAL in the same shape.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { EpochgraphError, ERROR_STATUS, type ErrorCode, type ErrorData } from '../src/errors.js';
import { clip, sendBody } from './encoding.js';

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

/** The wire form of an error. */
export interface ErrorBody {
  error: ErrorData;
}

/**
 * Map anything thrown to the error data and status the client sees (`contentType`: the
 * request's, named when it is the problem).
 */
export function errorData(
  err: unknown,
  contentType?: string,
): { status: number; data: ErrorData; bug: boolean } {
  if (err instanceof EpochgraphError) {
    return { status: err.status, data: err.toData(), bug: err.code === 'INTERNAL' };
  }
  const fe = err as Partial<FastifyError> & { validation?: unknown; validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(err)) {
    // The zod issues, as path (JSON pointer into the request part), code and message.
    const issues = err.validation.slice(0, 20).map((v) => ({
      path: v.instancePath,
      code: v.keyword,
      message: v.message,
    }));
    return coded('INVALID_REQUEST', clip(err.message, 500), { in: fe.validationContext, issues });
  }
  if (fe.validation !== undefined) return coded('INVALID_REQUEST', clip(String(fe.message)));
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return coded('TOO_LARGE', clip(String(fe.message)));
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const sent = contentType === undefined ? 'no Content-Type' : `Content-Type ${clip(contentType, 100)}`;
    return coded('INVALID_REQUEST', `${sent} is not accepted: send application/json or application/msgpack`, {
      reason: fe.code,
    });
  }
  if (status >= 400 && status < 500 && typeof fe.code === 'string' && fe.code.startsWith('FST_')) {
    // A bad content length and fastify's other request errors: the request is invalid (their
    // 4xx statuses are folded into 400, the one status of INVALID_REQUEST).
    return coded('INVALID_REQUEST', clip(String(fe.message)), { reason: fe.code });
  }
  if (err instanceof SyntaxError && status === 400) return coded('INVALID_REQUEST', clip(err.message));
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, data: { code: 'INTERNAL', message: clip(message, 500) }, bug: true };
}

function coded(code: ErrorCode, message: string, details?: unknown) {
  const data: ErrorData = details === undefined ? { code, message } : { code, message, details };
  return { status: ERROR_STATUS[code], data, bug: false };
}

/** Send an error in the negotiated encoding (503s carry Retry-After). */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, data, bug } = errorData(err, req.headers['content-type']);
  if (bug) req.log.error({ err }, `internal error on ${req.method} ${req.url}`);
  else if (status >= 500) req.log.warn({ code: data.code }, data.message);
  if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  reply.removeHeader('x-epoch');
  const body: ErrorBody = { error: data };
  return sendBody(req, reply, body, status);
}

/** Install the error handler and the not-found handler on the root instance. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      new EpochgraphError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
    ),
  );
}
