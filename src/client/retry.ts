/**
 * When the client tries a request again, and how long it waits.
 *
 * The rule. A request is retried only when trying it again cannot apply anything twice:
 * - Reads (every GET, and the POST reads: batch neighbours, subgraph, algorithms) are
 *   idempotent. They are retried on 503 (any code), 502 and 504, on connection errors and on
 *   per-attempt timeouts.
 * - Writes (`POST /v1/batches`, `POST /v1/pins`) are retried only when the server cannot have
 *   applied them: the connection was refused or never established (the request was never
 *   sent), or the server answered 503 with code NOT_READY (not ready, shutting down, ingest
 *   queue full: refused before anything was applied), unless its details say
 *   `mayHaveBeenApplied: true` (writes stopped while the batch waited for its epoch). Anything else (a reset after sending,
 *   a timeout, 503 BACKUP_UNAVAILABLE, a 503 without our error body) is thrown at once:
 *   the write may have been applied, and only the caller knows whether repeating it is safe.
 * - `DELETE /v1/pins/:id` is retried like a read; a NOT_FOUND after a retry counts as deleted.
 *
 * The wait. Exponential backoff with jitter: attempt n waits a random time in
 * [base·2^(n-1)/2, base·2^(n-1)], capped at maxDelayMs. A 503 with `Retry-After` waits what
 * the server asked (plus up to 20% jitter, so clients do not return in step), unless that is
 * longer than maxRetryAfterMs, in which case the error is thrown at once.
 */

/** How hard the client tries. */
export interface RetryOptions {
  /** Total attempts per request, the first included (default 5; 1 = no retries). */
  attempts?: number;
  /** Backoff of the first retry, in ms (default 100). */
  baseDelayMs?: number;
  /** Longest backoff, in ms (default 5000). */
  maxDelayMs?: number;
  /** A Retry-After longer than this (ms) is not waited for: the 503 is thrown (default 30000). */
  maxRetryAfterMs?: number;
}

/** Retry options with every field set. */
export type RetryPolicy = Readonly<Required<RetryOptions>>;

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  attempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  maxRetryAfterMs: 30_000,
});

/** No retries at all. */
export const NO_RETRY: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY, attempts: 1 });

/** Merge and check retry options. */
export function retryPolicy(opts: RetryOptions | false | undefined): RetryPolicy {
  if (opts === false) return NO_RETRY;
  const p = { ...DEFAULT_RETRY, ...opts };
  if (!Number.isSafeInteger(p.attempts) || p.attempts < 1)
    throw new RangeError(`retry.attempts must be a positive integer, got ${p.attempts}`);
  for (const k of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new RangeError(`retry.${k} must be ≥ 0, got ${p[k]}`);
  }
  return Object.freeze(p);
}

/** How a request may be retried: see the module comment. */
export type RequestSafety = 'idempotent' | 'write';

/** The wait before attempt `attempt + 1` after a failure without Retry-After. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return full / 2 + (random() * full) / 2;
}

/** The wait the server asked for, with up to 20% jitter added. */
export function retryAfterWaitMs(retryAfterMs: number, random: () => number = Math.random): number {
  return retryAfterMs + random() * 0.2 * retryAfterMs;
}

/**
 * Parse a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns ms,
 * or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - now);
}

/**
 * Error codes of a failed connection that mean the request never left this machine: nothing
 * was sent, so even a write may be tried again. (undici puts them on `err.cause.code`.)
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** What went wrong with a connection, read from a fetch failure. */
export interface ConnectionFailure {
  /** A system or undici code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...) or `unknown`. */
  code: string;
  /** The reason in words. */
  message: string;
  /** False only when the request was certainly not sent. */
  maybeSent: boolean;
}

/** Read the cause chain of a fetch failure (runtime-neutral: only structural checks). */
export function connectionFailure(err: unknown): ConnectionFailure {
  let code = 'unknown';
  let message = err instanceof Error ? err.message : String(err);
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') {
      code = c;
      const m = (e as { message?: unknown }).message;
      if (typeof m === 'string' && m.length > 0) message = m;
      break;
    }
    // AggregateError (several addresses tried): the first error is as good as any.
    const errors = (e as { errors?: unknown }).errors;
    e = (e as { cause?: unknown }).cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return { code, message, maybeSent: !NOT_SENT_CODES.has(code) };
}

/** Sleep `ms`, or reject early with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
