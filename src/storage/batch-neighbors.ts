/**
 * Batch neighbours: the neighbour ids of many vertices at one epoch, as CSR rows in request
 * order (DESIGN §7, `POST /v1/snapshots/:epoch/neighbors`). The read goes straight to the
 * shared buffers through an open GraphSnapshot (no copy, no lock), gathers local ids in a
 * column this thread reuses, and writes the answer's ids into one Float64Array of its exact
 * size while every id is an integer (the msgpack wire form). It yields to
 * the event loop after about `yieldEveryEntries` neighbour visits, so one big request does not
 * stall every other client; the snapshot stays open (registered as a reader) across the
 * yields, so the epoch it reads cannot be reclaimed underneath.
 *
 * It runs in any thread that has the partitions' readers: the API's main thread for small
 * requests, a read worker (src/analytics pool) for big ones.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EpochgraphError } from '../errors.js';
import { type ExternalId, partitionOf } from '../model/ids.js';
import { neighborTables, resolveMany } from './batch-lookup.js';
import { keysOfLids } from './gather-kernels.js';
import type { GraphSnapshot, NeighborDirection } from './graph-snapshot.js';
import type { LidColumn, Snapshot } from './snapshot.js';

export interface NeighborRows {
  /** offsets[i]..offsets[i+1] delimit row i's neighbours. */
  offsets: Float64Array;
  neighbors: Float64Array | ExternalId[];
  /** Indices into the request of ids that are not vertices at this epoch. */
  missing: Float64Array;
}

export interface BatchNeighborLimits {
  /** Most neighbour ids one answer may hold; more throw TOO_LARGE. */
  maxBatchNeighbors: number;
  /** Yield to the event loop after about this many neighbour visits. */
  yieldEveryEntries: number;
}

export function dirsOf(direction: NeighborDirection): ('out' | 'in')[] {
  return direction === 'both' ? ['out', 'in'] : [direction];
}

function tooManyNeighbors(limit: number): EpochgraphError {
  return new EpochgraphError(
    'TOO_LARGE',
    `the answer would hold more than ${limit} neighbour ids; ask for fewer ids per request`,
    { maxBatchNeighbors: limit },
  );
}

/** Request positions per group of batchNeighborRows: ids resolved together (batch-lookup.ts). */
const RESOLVE_GROUP = 256;

/** Local-id columns kept for the next answers of this thread (see takeLids). */
const spareLids: LidColumn[] = [];
/** Columns kept at most, and the largest kept (entries): the pool stays a few MB. */
const SPARE_LIDS = 4;
const SPARE_MAX_ENTRIES = 1 << 22;

/**
 * A local-id column for one answer: a kept one when there is one. An answer's columns used to
 * be allocated per request and doubled as they filled: ~1.1 MB of fresh memory for 4096 ids
 * with ~41K neighbours (~155 page faults per answer in a fresh process; in a warm one the
 * allocator reused its memory, and in process the change measured neutral, 1.009).
 */
function takeLids(hint: number): LidColumn {
  const col = spareLids.pop();
  if (col !== undefined) {
    col.length = 0;
    return col;
  }
  return { buf: new Uint32Array(Math.min(hint, 1 << 20) + 16), length: 0 };
}

function keepLids(col: LidColumn): void {
  if (spareLids.length < SPARE_LIDS && col.buf.length <= SPARE_MAX_ENTRIES) spareLids.push(col);
}

/**
 * The state of one batch-neighbour answer, built a run of groups at a time by `fill`, then
 * turned into id keys a run at a time by `mapKeys`. The hot loops live in these synchronous
 * methods, not in the async function that yields between runs: V8 optimized the async
 * version only by on-stack replacement inside the loop, then threw that code away at the
 * loop's exit (no type feedback yet for the code after it), call after call (14 deopts in
 * 3 s). This alone did not measurably speed answers up; it keeps the loop's compiled code
 * stable.
 */
class RowsBuilder {
  private readonly parts: Snapshot[] = [];
  private readonly labelIdx: number[];
  private readonly keys: Float64Array[];
  private readonly tables: number[][];
  private readonly dirs: ('out' | 'in')[];
  /** The answer's neighbours as local ids (of the row's partition): a kept column (takeLids). */
  private lids: LidColumn | null;
  /** The answer's neighbours as id keys, allocated at their exact size once every row is read. */
  private keyCol: Float64Array | null = null;
  readonly offsets: Float64Array;
  readonly missing: number[] = [];
  /** The partition of each request position. */
  private readonly rowOwner: Uint8Array;
  private readonly lid = new Int32Array(RESOLVE_GROUP);
  private readonly sel = new Int32Array(RESOLVE_GROUP);
  private readonly found = new Int32Array(RESOLVE_GROUP);
  /** The first request position not read (fill) or not mapped to keys (mapKeys) yet. */
  private next = 0;
  private mapped = 0;

  constructor(
    snap: GraphSnapshot,
    private readonly ids: ArrayLike<ExternalId>,
    direction: NeighborDirection,
    private readonly label: string | undefined,
    private readonly limits: BatchNeighborLimits,
  ) {
    for (let p = 0; p < snap.partitions; p++) this.parts.push(snap.partition(p));
    this.labelIdx = this.parts.map((s) => (label === undefined ? -1 : s.edgeLabelIndex(label)));
    this.keys = this.parts.map((s) => s.idKeys());
    this.dirs = dirsOf(direction);
    this.tables = this.parts.map((s, p) =>
      label !== undefined && this.labelIdx[p] < 0 ? [] : neighborTables(s, this.dirs, this.labelIdx[p]),
    );
    this.offsets = new Float64Array(ids.length + 1);
    this.rowOwner = new Uint8Array(ids.length);
    this.lids = takeLids(ids.length * 8);
  }

  /** Give the local-id column back for the next answer (once; the builder is done with it). */
  release(): void {
    if (this.lids !== null) keepLids(this.lids);
    this.lids = null;
  }

  private column(): LidColumn {
    if (this.lids === null) throw new EpochgraphError('INTERNAL', 'batch rows used after release');
    return this.lids;
  }

  /**
   * Read groups of request positions until about yieldEveryEntries neighbour visits are
   * done or every position is read; true when every position is read.
   */
  fill(): boolean {
    const { ids, parts, labelIdx, tables, dirs, offsets, missing, rowOwner, lid, sel, found } = this;
    const lids = this.column();
    const { maxBatchNeighbors, yieldEveryEntries } = this.limits;
    const all = this.label === undefined;
    const P = parts.length;
    let work = 0;
    let g = this.next;
    for (; g < ids.length && work < yieldEveryEntries; g += RESOLVE_GROUP) {
      const end = Math.min(ids.length, g + RESOLVE_GROUP);
      for (let i = g; i < end; i++) rowOwner[i] = partitionOf(ids[i], P);
      for (let p = 0; p < P; p++) {
        let n = 0;
        for (let i = g; i < end; i++) if (rowOwner[i] === p) sel[n++] = i;
        if (n === 0) continue;
        resolveMany(parts[p], ids, sel, n, found, tables[p]);
        for (let k = 0; k < n; k++) lid[sel[k] - g] = found[k];
      }
      for (let i = g; i < end; i++) {
        const p = rowOwner[i];
        const v = lid[i - g];
        const before = lids.length;
        let proven = 0;
        if (v >= 0 && (all || labelIdx[p] >= 0)) {
          for (let d = 0; d < dirs.length; d++)
            proven += parts[p].appendNeighborLids(v, dirs[d], labelIdx[p], lids);
          work += lids.length - before;
        }
        // A row with a neighbour read from a settled list is a vertex at this epoch
        // (appendNeighborLids says why); any other row checks the vertex record, and drops
        // what it appended when the vertex is not there.
        if (v < 0 || (proven === 0 && !parts[p].exists(v))) {
          lids.length = before;
          missing.push(i);
        } else if (lids.length > maxBatchNeighbors) throw tooManyNeighbors(maxBatchNeighbors);
        offsets[i + 1] = lids.length;
        work++;
      }
    }
    this.next = g;
    return g >= ids.length;
  }

  /**
   * Turn the local ids of rows into id keys until about yieldEveryEntries are done or every
   * row is; true when every row is. Called once every row is read, so the key column is
   * allocated once, at its exact size.
   */
  mapKeys(): boolean {
    const { ids, keys, offsets, rowOwner } = this;
    const lids = this.column();
    if (this.keyCol === null) this.keyCol = new Float64Array(lids.length);
    const out = this.keyCol;
    const budget = this.limits.yieldEveryEntries;
    const start = offsets[this.mapped];
    let i = this.mapped;
    for (; i < ids.length && offsets[i] - start < budget; i++) {
      const from = offsets[i];
      keysOfLids(lids.buf, from, offsets[i + 1] - from, keys[rowOwner[i]], out, from);
    }
    this.mapped = i;
    return i >= ids.length;
  }

  /** The answer's neighbour column (keys resolved to string ids where there are any). */
  neighbors(): Float64Array | ExternalId[] {
    if (this.keyCol === null) throw new EpochgraphError('INTERNAL', 'batch rows not mapped to keys');
    return withStringIds(this.keyCol, this.ids, this.offsets, this.parts);
  }
}

/**
 * Neighbour ids of many vertices as CSR rows in request order (DESIGN §7, batch reads). The
 * ids are resolved a group at a time, per owner partition, with the memory their lists need
 * brought in on the way (storage resolveMany: ~1.5x faster than one id at a time). Each list
 * is copied as local ids straight from the arena (Snapshot.appendNeighborLids: no call per
 * entry) into a column this thread reuses; once every row is read, the local ids become id
 * keys in a column of the answer's exact size; keys that stand for string ids are resolved
 * at the end, only if there are any.
 */
export async function batchNeighborRows(
  snap: GraphSnapshot,
  ids: ArrayLike<ExternalId>,
  direction: NeighborDirection,
  label: string | undefined,
  limits: BatchNeighborLimits,
): Promise<NeighborRows> {
  const rows = new RowsBuilder(snap, ids, direction, label, limits);
  try {
    while (!rows.fill()) await nextTurn();
    while (!rows.mapKeys()) await nextTurn();
  } finally {
    rows.release();
  }
  return { offsets: rows.offsets, neighbors: rows.neighbors(), missing: Float64Array.from(rows.missing) };
}

/**
 * The answer column: the keys themselves when every one is an integer id; otherwise an array
 * with each negative key resolved by the partition of the row it belongs to.
 */
function withStringIds(
  nums: Float64Array,
  ids: ArrayLike<ExternalId>,
  offsets: Float64Array,
  parts: readonly Snapshot[],
): Float64Array | ExternalId[] {
  let first = -1;
  for (let k = 0; k < nums.length; k++) {
    if (nums[k] < 0) {
      first = k;
      break;
    }
  }
  if (first < 0) return nums;
  const out: ExternalId[] = Array.from(nums);
  for (let i = 0; i < ids.length; i++) {
    if (offsets[i + 1] <= first) continue;
    const s = parts[partitionOf(ids[i], parts.length)];
    for (let k = offsets[i]; k < offsets[i + 1]; k++) if (nums[k] < 0) out[k] = s.externalIdOfKey(nums[k]);
  }
  return out;
}
