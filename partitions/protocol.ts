/**
 * Messages between the machine (main thread) and its partition workers. Requests carry an id
 * and get exactly one reply; errors cross as data ({ code, message, details }) and are
 * rebuilt as EpochgraphError on the other side. Both sides check what they receive.
 */
import { EpochgraphError, type ErrorData, isErrorCode } from '../src/errors.js';
import type { AppliedCounts, DeleteEdgeOp, EdgeColumns, Op } from '../src/model/ops.js';
import type { StoreLimits } from '../src/storage/index.js';

/** What a worker is started with (workerData). */
export interface WorkerInit {
  partition: number;
  partitions: number;
  walDir: string;
  checkpointDir: string;
  backupWalDir?: string;
  backupCheckpointDir?: string;
  limits?: Partial<StoreLimits>;
  walSegmentBytes?: number;
  /**
   * Checkpoint when the WAL bytes since the last checkpoint reach
   * max(checkpointWalBytes, checkpointWalRatio x the last checkpoint's body bytes).
   */
  checkpointWalBytes: number;
  checkpointWalRatio: number;
  /** ... or when this long passed since the last one (and something changed). */
  checkpointIntervalMs: number;
}

export type WorkerRequest =
  | { t: 'scan'; id: number }
  | { t: 'replay'; id: number; skip: number[]; alignEpoch: number }
  | { t: 'apply'; id: number; ops: Op[]; edges?: EdgeColumns }
  | {
      t: 'seal';
      id: number;
      epoch: number;
      sealedAtMs: number;
      participants: number[];
      /** An idle epoch that only compacts (logged as an empty group). */
      compactOnly: boolean;
    }
  | { t: 'retain'; id: number; oldest: number }
  | { t: 'committed'; id: number; epoch: number }
  | { t: 'checkpoint'; id: number }
  | { t: 'stats'; id: number }
  | { t: 'close'; id: number };

export type WorkerRequestType = WorkerRequest['t'];

/** The result of each request type. */
export interface WorkerResults {
  scan: ScanResult;
  replay: ReplayResult;
  apply: { applied: AppliedCounts; cascades: DeleteEdgeOp[] };
  seal: SealResultData;
  retain: { freed: number };
  committed: { checkpoint: boolean };
  checkpoint: { epoch: number; bytes: number } | null;
  stats: WorkerStats;
  close: { epoch: number };
}

export interface ScanResult {
  checkpointEpoch: number;
  /** [epoch, participants] of every committed WAL group after the checkpoint. */
  groups: [number, number[]][];
  /** Torn-tail repair, if any (for logs). */
  tornTail: string | null;
}

/** An epoch a replay sealed again, with the partition's counts after it. */
export interface ReplayedEpoch {
  epoch: number;
  sealedAtMs: number;
  vertices: number;
  edges: number;
}

export interface ReplayResult {
  descriptor: unknown;
  epoch: number;
  replayed: number;
  skipped: number;
  vertices: number;
  edges: number;
  /** The epochs replayed, oldest first. */
  epochs: ReplayedEpoch[];
}

export interface SealResultData {
  epoch: number;
  sealedAtMs: number;
  vertices: number;
  edges: number;
  changedRecords: number;
  sealMs: number;
  /** Time of the WAL write + fsync (0 when nothing was logged). */
  durableMs: number;
  walBytes: number;
  /** Live adjacency entries in fragmented vertex ranges after this seal (idle compaction). */
  uncompactedEntries: number;
  /** Set when the backup mirror failed (the primary holds the group). */
  backupError?: ErrorData;
}

export interface WorkerStats {
  partition: number;
  epoch: number;
  vertices: number;
  edges: number;
  walBytesTotal: number;
  walBytesSinceCheckpoint: number;
  lastCheckpointEpoch: number;
  checkpointing: boolean;
  memory: Record<string, number>;
}

/**
 * A checkpoint that ended, sent unasked (background checkpoints have no request): for
 * metrics. Failures are also logged with their cause.
 */
export interface CheckpointReport {
  ok: boolean;
  /** The epoch it covers (the one it tried to cover, when it failed). */
  epoch: number;
  /** Body bytes written (0 when it failed). */
  bytes: number;
  /** Wall time, and the worker's time spent encoding it. */
  ms: number;
  encodeMs: number;
}

export type WorkerMessage =
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: ErrorData }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }
  | ({ t: 'checkpoint' } & CheckpointReport);

/** The first record of every partition's WAL group: which partitions logged this epoch. */
export interface EpochRecord {
  kind: 'epoch';
  epoch: number;
  participants: number[];
}

export function isEpochRecord(v: unknown): v is EpochRecord {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<EpochRecord>;
  return (
    r.kind === 'epoch' &&
    Number.isSafeInteger(r.epoch) &&
    Array.isArray(r.participants) &&
    r.participants.every((p) => Number.isInteger(p) && p >= 0 && p < 1 << 16)
  );
}

/** Check a message that arrived from a worker. */
export function checkWorkerMessage(m: unknown): WorkerMessage {
  if (m === null || typeof m !== 'object')
    throw new EpochgraphError('INTERNAL', 'worker sent a non-object message');
  const o = m as Record<string, unknown>;
  if (o.t === 'reply' && Number.isSafeInteger(o.id)) {
    if (o.ok === true) return o as WorkerMessage;
    const e = o.error as Record<string, unknown> | undefined;
    if (o.ok === false && e !== undefined && isErrorCode(e.code) && typeof e.message === 'string')
      return o as WorkerMessage;
  }
  if (
    o.t === 'log' &&
    typeof o.message === 'string' &&
    ['info', 'warn', 'error'].includes(o.level as string)
  ) {
    return o as WorkerMessage;
  }
  const count = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0;
  if (
    o.t === 'checkpoint' &&
    typeof o.ok === 'boolean' &&
    ['epoch', 'bytes', 'ms', 'encodeMs'].every(count)
  ) {
    return o as WorkerMessage;
  }
  throw new EpochgraphError(
    'INTERNAL',
    `worker sent a malformed message: ${JSON.stringify(m).slice(0, 200)}`,
  );
}

const REQUEST_TYPES: readonly WorkerRequestType[] = [
  'scan',
  'replay',
  'apply',
  'seal',
  'retain',
  'committed',
  'checkpoint',
  'stats',
  'close',
];

/** Check a request that arrived at a worker (the batch itself is decoded by decodeBatch). */
export function checkWorkerRequest(m: unknown): WorkerRequest {
  if (m === null || typeof m !== 'object') throw new EpochgraphError('INTERNAL', 'non-object request');
  const o = m as Record<string, unknown>;
  if (!REQUEST_TYPES.includes(o.t as WorkerRequestType) || !Number.isSafeInteger(o.id)) {
    throw new EpochgraphError('INTERNAL', `malformed request: ${JSON.stringify(m).slice(0, 200)}`);
  }
  const int = (k: string) => {
    if (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0)
      throw new EpochgraphError('INTERNAL', `request ${o.t}: bad ${k}`);
  };
  switch (o.t) {
    case 'seal':
      int('epoch');
      int('sealedAtMs');
      if (!Array.isArray(o.participants)) throw new EpochgraphError('INTERNAL', 'seal: bad participants');
      if (typeof o.compactOnly !== 'boolean') throw new EpochgraphError('INTERNAL', 'seal: bad compactOnly');
      break;
    case 'retain':
      int('oldest');
      break;
    case 'committed':
      int('epoch');
      break;
    case 'replay':
      int('alignEpoch');
      if (!Array.isArray(o.skip)) throw new EpochgraphError('INTERNAL', 'replay: bad skip');
      break;
    case 'apply':
      if (!Array.isArray(o.ops)) throw new EpochgraphError('INTERNAL', 'apply: bad ops');
      break;
  }
  return o as unknown as WorkerRequest;
}
