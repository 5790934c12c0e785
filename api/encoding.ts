/**
 * Content negotiation, both ways. Request bodies are JSON or msgpack (by Content-Type);
 * responses are msgpack when the Accept header asks for it, JSON otherwise. In msgpack,
 * numeric columns travel as typed arrays (src/codec/msgpack.ts, the project's one msgpack
 * configuration); in JSON they become plain arrays.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import type { PackedAnswer } from '../src/codec/answer-slots.js';
import { packMsgpack, unpackMsgpack } from '../src/codec/msgpack.js';
import { invalid } from '../src/errors.js';
import type { ExternalId } from '../src/model/ids.js';
import { observeAnswer } from './observe.js';

export const MSGPACK_TYPES = ['application/msgpack', 'application/x-msgpack'] as const;
export const MSGPACK = 'application/msgpack';
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Whether the client asked for msgpack answers (Accept names a msgpack type). */
export function wantsMsgpack(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('msgpack') && MSGPACK_TYPES.some((t) => accept.includes(t));
}

/**
 * The request body parsers: JSON and msgpack, and nothing else (fastify's text/plain parser
 * is removed, so a text body is refused for its type instead of failing validation as a
 * string). A body that does not parse is a 400 that says why: JSON.parse's message (with the
 * position) or msgpackr's, or the `__proto__` / `constructor.prototype` key that
 * secure-json-parse refuses, as fastify's own JSON parser does (its message drops the cause).
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if ((body as string).length === 0) {
      done(invalid('the body is empty; send a JSON object'), undefined);
      return;
    }
    let value: unknown;
    try {
      value = secureJson.parse(body as string, undefined, {
        protoAction: 'error',
        constructorAction: 'error',
      });
    } catch (err) {
      done(invalid(`the body is not valid JSON: ${clip((err as Error).message)}`), undefined);
      return;
    }
    done(null, value);
  });
  app.addContentTypeParser([...MSGPACK_TYPES], { parseAs: 'buffer' }, (_req, body, done) => {
    let value: unknown;
    try {
      value = unpackMsgpack(body as Buffer);
    } catch (err) {
      done(invalid(`the body is not valid msgpack: ${clip((err as Error).message)}`), undefined);
      return;
    }
    done(null, value);
  });
}

/** Messages of third-party parsers can quote the input; keep them short. */
export function clip(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/**
 * Send a body in the negotiated encoding. Handlers build bodies with typed-array columns
 * when `wantsMsgpack` (see idColumn); the JSON path turns typed arrays into plain arrays.
 */
export function sendBody(req: FastifyRequest, reply: FastifyReply, body: object, status = 200): FastifyReply {
  reply.code(status);
  if (wantsMsgpack(req)) {
    const bytes = packMsgpack(body);
    reply.type(MSGPACK).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } else reply.type(JSON_TYPE).send(JSON.stringify(jsonValue(body)));
  observeAnswer(req, reply);
  return reply;
}

/**
 * Send an answer already packed in msgpack, and release it once it is written out (or the
 * connection closed first): its bytes may be a shared buffer that is reused after.
 */
export function sendPacked(req: FastifyRequest, reply: FastifyReply, answer: PackedAnswer): FastifyReply {
  reply.raw.once('finish', answer.release);
  reply.raw.once('close', answer.release);
  const b = answer.bytes;
  reply
    .code(200)
    .type(MSGPACK)
    .send(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  observeAnswer(req, reply);
  return reply;
}

/**
 * A value as JSON can carry it: typed arrays become plain arrays (recursively through plain
 * objects and arrays of objects; arrays of scalars are left alone, which keeps this cheap).
 */
export function jsonValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) {
    if (v.length === 0 || v[0] === null || typeof v[0] !== 'object') return v;
    return v.map(jsonValue);
  }
  let out: Record<string, unknown> | null = null;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === 'object') {
      const y = jsonValue(x);
      if (y !== x) {
        if (out === null) out = { ...(v as Record<string, unknown>) };
        out[k] = y;
      }
    }
  }
  return out ?? v;
}

/** A column of ids for msgpack: a Float64Array when every id is an integer, else the ids as they are. */
export function idColumn(ids: readonly ExternalId[]): Float64Array | readonly ExternalId[] {
  const out = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const x = ids[i];
    if (typeof x !== 'number') return ids;
    out[i] = x;
  }
  return out;
}

/** Send a streamed body (the route's response schema documents the decoded value). */
export function sendStream(reply: FastifyReply, stream: Readable): FastifyReply {
  return reply.send(stream);
}

/** Answer 204 No Content. */
export function sendNoContent(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.code(204).send();
  observeAnswer(req, reply);
  return reply;
}

/** Send a body that is already encoded (with its content type). */
export function sendEncoded(
  req: FastifyRequest,
  reply: FastifyReply,
  contentType: string,
  payload: string | Buffer,
): FastifyReply {
  reply.type(contentType).send(payload);
  observeAnswer(req, reply);
  return reply;
}
