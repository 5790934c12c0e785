/**
 * Errors of the durable file layer. They are EpochgraphErrors, so they cross worker boundaries
 * as data like every other error; `details.reason` tells the kinds apart once they have.
 */
import { EpochgraphError } from '../src/errors.js';

/** `details.reason` of a CorruptionError after it crossed a thread boundary as data. */
export const DATA_CORRUPT = 'DATA_CORRUPT';

/**
 * A durable file (WAL segment or checkpoint) holds bytes that cannot have been produced by a
 * torn write, so acknowledged data may be damaged. Never handled by dropping data: the daemon
 * stops and names the file and byte offset so an operator can inspect it.
 */
export class CorruptionError extends EpochgraphError {
  readonly file: string;
  readonly offset: number | undefined;
  readonly problem: string;
  constructor(file: string, offset: number | undefined, problem: string) {
    const where = offset === undefined ? file : `${file} at byte ${offset}`;
    super('INTERNAL', `corrupt data in ${where}: ${problem}`, {
      reason: DATA_CORRUPT,
      file,
      offset,
      problem,
    });
    this.name = 'CorruptionError';
    this.file = file;
    this.offset = offset;
    this.problem = problem;
  }
}

/** The backup mirror failed, so nothing of this operation is acknowledged (HTTP 503). */
export function backupUnavailable(message: string, cause: unknown, details?: Record<string, unknown>) {
  const err = new EpochgraphError('BACKUP_UNAVAILABLE', `${message}: ${describe(cause)}`, details);
  err.cause = cause;
  return err;
}

/** An I/O failure of the primary copy (disk full, EIO): an internal error, never acknowledged. */
export function primaryFailure(message: string, cause: unknown, details?: Record<string, unknown>) {
  const err = new EpochgraphError('INTERNAL', `${message}: ${describe(cause)}`, details);
  err.cause = cause;
  return err;
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}
