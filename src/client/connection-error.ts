/**
 * The error of a request that got no answer from the server: the connection was refused,
 * reset or timed out. Errors the server answered with are EpochgraphError (rebuilt from the
 * error body); this one says whether a write may still have been applied.
 */
export class ConnectionError extends Error {
  /** A system or undici code (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`), `TIMEOUT` or `unknown`. */
  readonly code: string;
  readonly method: string;
  readonly url: string;
  /** Attempts made, the first included. */
  readonly attempts: number;
  /**
   * True when the request may have reached the server (it was sent, and the answer was lost).
   * A write that fails with this flag set may or may not have been applied.
   */
  readonly mayHaveBeenApplied: boolean;

  constructor(opts: {
    code: string;
    reason: string;
    method: string;
    url: string;
    attempts: number;
    mayHaveBeenApplied: boolean;
  }) {
    const tries = opts.attempts === 1 ? '' : ` after ${opts.attempts} attempts`;
    super(`cannot reach ${opts.url} (${opts.method}): ${opts.reason}${tries}`);
    this.name = 'ConnectionError';
    this.code = opts.code;
    this.method = opts.method;
    this.url = opts.url;
    this.attempts = opts.attempts;
    this.mayHaveBeenApplied = opts.mayHaveBeenApplied;
  }
}
