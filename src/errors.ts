/**
 * Every error a user can see has a stable code and an HTTP status. Errors cross worker
 * boundaries as plain data ({ code, message, details }) and are rebuilt on the other side.
 */

export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  VERTEX_NOT_FOUND: 404,
  EPOCH_NOT_FOUND: 404,
  NOT_FOUND: 404,
  SCHEMA_CONFLICT: 409,
  EPOCH_GONE: 410,
  TOO_LARGE: 413,
  NOT_READY: 503,
  BACKUP_UNAVAILABLE: 503,
  CAPACITY_EXCEEDED: 507,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** Plain-data form of an error, safe to post between threads and to serialize. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** The one error type of epochgraph: a code, an HTTP status, a message and optional details. */
export class EpochgraphError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'EpochgraphError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toData(): ErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERROR_STATUS, v);
}

/** Rebuild a typed error from data that crossed a thread or process boundary. */
export function errorFromData(data: unknown): EpochgraphError {
  if (data !== null && typeof data === 'object') {
    const d = data as { code?: unknown; message?: unknown; details?: unknown };
    if (isErrorCode(d.code)) {
      return new EpochgraphError(d.code, typeof d.message === 'string' ? d.message : d.code, d.details);
    }
  }
  return new EpochgraphError('INTERNAL', `malformed error data: ${safeJson(data)}`);
}

/** Convert anything thrown into plain error data (unknown errors become INTERNAL). */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof EpochgraphError) return err.toData();
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: safeJson(err) };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export const invalid = (message: string, details?: unknown) =>
  new EpochgraphError('INVALID_REQUEST', message, details);
export const epochGone = (epoch: number, oldest: number) =>
  new EpochgraphError(
    'EPOCH_GONE',
    `epoch ${epoch} has left retention; the oldest retained epoch is ${oldest}`,
    {
      epoch,
      oldest,
    },
  );
export const epochNotFound = (epoch: number, latest: number) =>
  new EpochgraphError(
    'EPOCH_NOT_FOUND',
    `epoch ${epoch} has not been sealed yet; the latest epoch is ${latest}`,
    {
      epoch,
      latest,
    },
  );
export const schemaConflict = (message: string, details?: unknown) =>
  new EpochgraphError('SCHEMA_CONFLICT', message, details);
