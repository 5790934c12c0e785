/**
 * What a seal publishes, its validation, and the GART blob record built from it.
 */
import { invalid } from '../src/errors.js';
import type { BlobRecord } from './records.js';

/** One partition's newly sealed epoch. */
export interface PartitionEpoch {
  readonly partition: number;
  readonly epoch: number;
  /** Vertex count at this epoch (`total_vertex_num`). */
  readonly vertices: number;
  /** Edge count at this epoch (`total_edge_num`). */
  readonly edges: number;
  /** When the epoch was sealed, in ms since the Unix epoch. */
  readonly sealedAtMs: number;
}

/** What one seal of a machine publishes: every local partition that sealed. */
export interface PublishState {
  readonly machine: number;
  /** P, the cluster's partition count (GART's `fnum`). */
  readonly fnum: number;
  /** The daemon's HTTP endpoint, `http://host:port`. */
  readonly endpoint: string;
  readonly partitions: readonly PartitionEpoch[];
}

export function checkCount(what: string, v: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min) throw invalid(`${what} must be a safe integer ≥ ${min}, got ${v}`);
}

/** Throws INVALID_REQUEST naming the field when a state is malformed (a caller bug). */
export function checkPublishState(state: PublishState): void {
  checkCount('machine', state.machine);
  checkCount('fnum', state.fnum, 1);
  if (typeof state.endpoint !== 'string') throw invalid('endpoint must be a string');
  const seen = new Set<number>();
  for (const e of state.partitions) {
    checkCount('partition', e.partition);
    if (seen.has(e.partition)) throw invalid(`partition ${e.partition} appears twice in one state`);
    seen.add(e.partition);
    if (e.partition >= state.fnum) {
      throw invalid(`partition ${e.partition} is out of range for ${state.fnum} partitions`);
    }
    checkCount('epoch', e.epoch);
    checkCount('vertices', e.vertices);
    checkCount('edges', e.edges);
    if (!Number.isFinite(e.sealedAtMs) || e.sealedAtMs < 0) throw invalid('sealedAtMs must be a time in ms');
  }
}

/** The `gart_blob_m{m}_p{p}_e{e}` value of one partition's epoch, in GART's field names. */
export function blobRecordOf(
  machine: number,
  fnum: number,
  endpoint: string,
  entry: PartitionEpoch,
): BlobRecord {
  return {
    'machine id': machine,
    fid: entry.partition,
    fnum,
    epoch: entry.epoch,
    // GART's timestamp is whole Unix seconds; sealedAt keeps the milliseconds.
    timestamp: Math.floor(entry.sealedAtMs / 1000),
    sealedAt: new Date(entry.sealedAtMs).toISOString(),
    total_vertex_num: entry.vertices,
    total_edge_num: entry.edges,
    endpoint,
  };
}
