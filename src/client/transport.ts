/**
 * One HTTP exchange with the daemon, tried again by the rule of retry.ts: encode the body
 * (msgpack by default, JSON on request), send it with `fetch`, decode the answer by its
 * Content-Type, check it against the route's schema, and turn error answers into
 * EpochgraphError rebuilt from the error body. Runtime-neutral: `fetch`, `AbortSignal`,
 * `TextDecoder` and the project's msgpack codec, nothing else.
 */
import type { z } from 'zod';
import { packMsgpack, unpackMsgpack } from '../codec/msgpack.js';
import { EpochgraphError, type ErrorCode } from '../errors.js';
import { ConnectionError } from './connection-error.js';
import { errorOfBody } from './responses.js';
import {
  backoffMs,
  connectionFailure,
  parseRetryAfter,
  type RequestSafety,
  type RetryOptions,
  type RetryPolicy,
  retryAfterWaitMs,
  retryPolicy,
  sleep,
} from './retry.js';

/** How bodies travel, both ways. */
export const ENCODINGS = ['msgpack', 'json'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const MSGPACK_TYPE = 'application/msgpack';
const JSON_TYPE = 'application/json';

/** Options of one call. */
export interface CallOptions {
  /** Abort the call (waits between attempts included). */
  signal?: AbortSignal;
  /** Retry options for this call, or false for none. */
  retry?: RetryOptions | false;
  /** Timeout of each attempt, in ms (a timed-out write is not retried). */
  timeoutMs?: number;
}

export interface TransportOptions {
  /** Base URL, e.g. `http://127.0.0.1:7070` (a path prefix is kept). */
  server: string;
  encoding: Encoding;
  retry: RetryPolicy;
  timeoutMs: number | undefined;
  fetch: typeof fetch;
  headers: Readonly<Record<string, string>>;
}

/** A request to one route. */
export interface RouteRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** The path, already percent-encoded where it holds ids. */
  path: string;
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  body?: unknown;
  safety: RequestSafety;
  /** Force an encoding for the answer (the CSR export streams msgpack unless JSON is asked for). */
  accept?: Encoding;
  /**
   * A NOT_FOUND on a retry means an earlier attempt did the job (a DELETE whose answer was
   * lost): count it as success.
   */
  goneAfterRetry?: boolean;
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_REQUEST',
  404: 'NOT_FOUND',
  409: 'SCHEMA_CONFLICT',
  410: 'EPOCH_GONE',
  413: 'TOO_LARGE',
  503: 'NOT_READY',
};

/** An error answer: the typed error, and whether it came with the API's error body. */
interface ErrorAnswer {
  error: EpochgraphError;
  fromBody: boolean;
  retryAfterMs: number | null;
}

/** Whether this error answer may be tried again (see retry.ts for the rule). */
function mayRetryAnswer(status: number, a: ErrorAnswer, safety: RequestSafety): boolean {
  if (safety === 'idempotent') return status === 503 || status === 502 || status === 504;
  return status === 503 && a.fromBody && a.error.code === 'NOT_READY' && !saysMayHaveBeenApplied(a.error);
}

/** The server's word that a refused write may still have been applied (writes stopped mid-batch). */
function saysMayHaveBeenApplied(err: EpochgraphError): boolean {
  const d = err.details as { mayHaveBeenApplied?: unknown } | undefined;
  return typeof d === 'object' && d !== null && d.mayHaveBeenApplied === true;
}

function timeoutError(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}

export class Transport {
  readonly server: string;
  readonly encoding: Encoding;

  constructor(private readonly opts: TransportOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.encoding = opts.encoding;
  }

  /** The full URL of a route. */
  url(req: Pick<RouteRequest, 'path' | 'query'>): string {
    let url = `${this.server}${req.path}`;
    if (req.query !== undefined) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) if (v !== undefined) q.set(k, String(v));
      const s = q.toString();
      if (s.length > 0) url += `?${s}`;
    }
    return url;
  }

  /** Send, retry by the rule, decode and check the answer against `schema`. */
  async call<S extends z.ZodType>(
    req: RouteRequest,
    schema: S,
    call: CallOptions = {},
  ): Promise<z.output<S>> {
    const body = await this.exchange(req, call, async (res) => decodeBody(res));
    return checkAnswer(req, schema, body);
  }

  /** Like call, for routes that answer 204 No Content. */
  async callNoContent(req: RouteRequest, call: CallOptions = {}): Promise<void> {
    await this.exchange(req, call, async (res) => {
      await res.arrayBuffer();
      return undefined;
    });
  }

  /**
   * Send with retries, then hand the successful response to `consume` (whose failures while
   * reading the body are retried too, for idempotent requests).
   */
  async exchange<T>(
    req: RouteRequest,
    call: CallOptions,
    consume: (res: Response) => Promise<T>,
  ): Promise<T> {
    const policy = call.retry === undefined ? this.opts.retry : retryPolicy(call.retry);
    const url = this.url(req);
    const init = this.init(req);
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const signals: AbortSignal[] = [];
      if (call.signal !== undefined) signals.push(call.signal);
      if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
      const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
      let res: Response;
      let sent = false;
      try {
        res = await this.opts.fetch(url, { ...init, signal });
        sent = true;
        if (res.ok) return await consume(res);
      } catch (err) {
        if (call.signal?.aborted) throw call.signal.reason;
        if (err instanceof EpochgraphError) throw err;
        const timedOut = timeoutError(err);
        const f = timedOut
          ? { code: 'TIMEOUT', message: `no answer within ${timeoutMs} ms`, maybeSent: true }
          : connectionFailure(err);
        const maybeApplied = sent || f.maybeSent;
        const retryable = req.safety === 'idempotent' || !maybeApplied;
        if (!retryable || attempt >= policy.attempts) {
          throw new ConnectionError({
            code: f.code,
            reason: f.message,
            method: req.method,
            url,
            attempts: attempt,
            mayHaveBeenApplied: req.safety === 'write' && maybeApplied,
          });
        }
        await sleep(backoffMs(policy, attempt), call.signal);
        continue;
      }
      const answer = await errorAnswer(req, url, res);
      if (req.goneAfterRetry === true && attempt > 1 && answer.error.code === 'NOT_FOUND') {
        return consume(new Response(null, { status: 204 }));
      }
      if (attempt < policy.attempts && mayRetryAnswer(res.status, answer, req.safety)) {
        const ra = answer.retryAfterMs;
        if (ra === null) {
          await sleep(backoffMs(policy, attempt), call.signal);
          continue;
        }
        if (ra <= policy.maxRetryAfterMs) {
          await sleep(retryAfterWaitMs(ra), call.signal);
          continue;
        }
      }
      throw answer.error;
    }
  }

  private init(req: RouteRequest): RequestInit {
    const accept = req.accept ?? this.encoding;
    const headers: Record<string, string> = {
      ...this.opts.headers,
      accept: accept === 'msgpack' ? MSGPACK_TYPE : JSON_TYPE,
    };
    const init: RequestInit = { method: req.method, headers };
    if (req.body !== undefined) {
      if (this.encoding === 'msgpack') {
        headers['content-type'] = MSGPACK_TYPE;
        init.body = packMsgpack(req.body) as Uint8Array<ArrayBuffer>;
      } else {
        headers['content-type'] = JSON_TYPE;
        init.body = JSON.stringify(req.body, typedArraysAsArrays);
      }
    }
    return init;
  }
}

/** JSON.stringify replacer: typed arrays (id and value columns) as plain arrays. */
export function typedArraysAsArrays(_key: string, v: unknown): unknown {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Float64Array) : v;
}

/** Decode body bytes by their Content-Type: msgpack, else JSON. Throws on malformed bytes. */
function decodeBytes(bytes: Uint8Array, type: string): unknown {
  return type.includes('msgpack') ? unpackMsgpack(bytes) : JSON.parse(new TextDecoder().decode(bytes));
}

/** Decode a body by its Content-Type (empty bodies are undefined). */
export async function decodeBody(res: Response): Promise<unknown> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length === 0) return undefined;
  const type = res.headers.get('content-type') ?? '';
  try {
    return decodeBytes(bytes, type);
  } catch (err) {
    throw new EpochgraphError(
      'INTERNAL',
      `the answer from ${res.url} is not valid ${type.includes('msgpack') ? 'msgpack' : 'JSON'}: ${(err as Error).message}`,
    );
  }
}

async function errorAnswer(req: RouteRequest, url: string, res: Response): Promise<ErrorAnswer> {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  let body: unknown;
  let text = '';
  try {
    const bytes = new Uint8Array(await res.arrayBuffer());
    text = new TextDecoder().decode(bytes.subarray(0, 300));
    body = decodeBytes(bytes, res.headers.get('content-type') ?? '');
  } catch {
    body = undefined;
  }
  const fromBody = errorOfBody(body);
  if (fromBody !== null) return { error: fromBody, fromBody: true, retryAfterMs };
  const code = STATUS_CODES[res.status] ?? 'INTERNAL';
  const summary = text.trim().replace(/\s+/g, ' ');
  return {
    error: new EpochgraphError(
      code,
      `HTTP ${res.status} ${res.statusText} from ${req.method} ${url}${summary.length > 0 ? `: ${summary}` : ''}`,
      { status: res.status },
    ),
    fromBody: false,
    retryAfterMs,
  };
}

/** Check an answer against its schema; a body that does not fit is the server's bug. */
export function checkAnswer<S extends z.ZodType>(req: RouteRequest, schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new EpochgraphError(
    'INTERNAL',
    `unexpected answer from ${req.method} ${req.path}: ${where}${issue.message}`,
    { issues: parsed.error.issues.slice(0, 10) },
  );
}
