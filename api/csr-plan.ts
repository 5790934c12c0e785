/**
 * The counting pass of a CSR export (csr-export.ts), and a cache of its results.
 *
 * Before a byte of a partition's export can be sent, its msgpack headers need the rows (the
 * partition's vertices at the epoch), every row's length and whether every id is an integer.
 * That pass reads every vertex page and every list record: about a fifth of the main
 * thread's time for a 1M-entry export, on top of the gather. What it learns depends only on
 * the snapshot (epoch, partition, direction, label), which never changes, so CsrPlans keeps
 * it for repeated exports of the same snapshot (trainers pulling one pinned epoch, several
 * clients reading the latest one). It keeps 12 bytes per row (row ids and offsets; nothing
 * per edge), within a byte budget, and drops what the budget or retention no longer allows.
 * Two exports of the same snapshot that start together share one count.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GraphSnapshot } from '../src/storage/graph-snapshot.js';
import type { Snapshot } from '../src/storage/index.js';
import { degrees, vertexRows } from '../src/storage/kernels.js';
import { type ChunkBuffers, uninitF64 } from './chunk-buffers.js';

/** Rows per window of the degree pass and per chunk of the ids and offsets columns. */
export const ROW_WINDOW = 1 << 16;
/** Most chunks per export: bigger partitions get bigger chunks (see neighborChunks). */
const MAX_CHUNKS = 64;

/** What the counting pass learns: a function of the snapshot alone, read-only once made. */
export interface RowPlan {
  /** The rows' local ids, ascending: the vertices of this partition at the epoch. */
  readonly rowLids: Uint32Array;
  /** The export's offsets column: row k is neighbours [offsets[k], offsets[k + 1]). */
  readonly offsets: Float64Array;
  readonly rows: number;
  /** Total neighbour entries. */
  readonly entries: number;
  /** Whether every id (rows and neighbours) is an integer, so id columns can be Float64Arrays. */
  readonly intIds: boolean;
  /** Local ids below this bound are all the counting pass saw (rows and neighbours). */
  readonly bound: number;
}

/** One export's plan: the counted rows plus what this export alone writes to. */
export interface CsrPlan extends RowPlan {
  readonly epoch: number;
  readonly partition: number;
  readonly snapshot: Snapshot;
  /** The id key column (Snapshot.idKeys): integer external ids by local id. */
  readonly keys: Float64Array;
  readonly direction: 'out' | 'in';
  /** Edge label index, -1 for every label, or null when the label does not exist (no entries). */
  readonly labelIdx: number | null;
  /** Per local id: the neighbour pass's write cursors (this export's own). */
  readonly cursor: Float64Array;
  readonly chunkEntries: number;
  /** Where the chunks' Float64Arrays come from (see CsrOptions.alloc). */
  readonly alloc: (n: number) => Float64Array;
  /** Whether offsets came from alloc (no cache): releasePlan gives it back. */
  readonly offsetsPooled: boolean;
  /** Whether this export counted the rows (false: they were kept, or counted by another). */
  readonly counted: boolean;
}

export interface CsrOptions {
  chunkBytes: number;
  /**
   * Float64Arrays of n elements whose contents are unspecified (default: fresh memory). The
   * msgpack route passes ChunkBuffers.take, and hands chunk buffers back as they are flushed.
   */
  alloc?: (n: number) => Float64Array;
  /** Counted rows to reuse and keep; without it every export counts its own (pooled) rows. */
  plans?: CsrPlans;
}

/**
 * Plan the export of one partition at the snapshot's epoch: the counted rows (from the cache
 * when it has them) and this export's own cursors. The snapshot must stay open until the
 * export is consumed.
 */
export async function planCsr(
  snap: GraphSnapshot,
  partition: number,
  direction: 'out' | 'in',
  label: string | undefined,
  opts: CsrOptions,
): Promise<CsrPlan> {
  const s = snap.partition(partition);
  const idx = label === undefined ? -1 : s.edgeLabelIndex(label);
  const labelIdx = idx < 0 && label !== undefined ? null : idx;
  const alloc = opts.alloc ?? uninitF64;
  const plans = opts.plans;
  // The lengths of a count made here become this export's cursors.
  let cursor: Float64Array | undefined;
  let pooled = false;
  // Offsets sent by other exports too (a kept count) are fresh memory, never given back; a
  // count only this export sees takes them from the pool.
  const count = (keep: (bytes: number) => boolean): Promise<RowPlan> => {
    // Every row is below the bound read first: the rows are vertices at a published epoch.
    const bound = s.localIdBound();
    cursor = alloc(bound);
    return countRows(s, direction, labelIdx, bound, cursor, (rows) => {
      if (keep(rowPlanBytes(rows))) return uninitF64(rows + 1);
      pooled = true;
      return alloc(rows + 1);
    });
  };
  const rows =
    plans === undefined
      ? await count(() => false)
      : await plans.get(`${snap.epoch}/${partition}/${direction}/${labelIdx}`, snap.epoch, count);
  const counted = cursor !== undefined;
  cursor ??= alloc(rows.bound);
  return {
    ...rows,
    epoch: snap.epoch,
    partition,
    snapshot: s,
    keys: s.idKeys(rows.bound),
    direction,
    labelIdx,
    cursor,
    chunkEntries: Math.max(1024, Math.floor(opts.chunkBytes / 8), Math.ceil(rows.entries / MAX_CHUNKS)),
    alloc,
    offsetsPooled: pooled,
    counted,
  };
}

/**
 * Give the plan's own buffers back to the pool they came from, once the export's every byte
 * has left: the offsets parts of msgpackCsr are views of plan.offsets.
 */
export function releasePlan(plan: CsrPlan, to: ChunkBuffers): void {
  to.give(plan.cursor);
  if (plan.offsetsPooled) to.give(plan.offsets);
}

/**
 * The counting pass: the rows (the partition's vertices), every row's length (ROW_WINDOW rows
 * at a time, with a yield in between, into `lengths`, by local id) and from them the offsets.
 * `offsetsFor(rows)` gives the offsets column; it is called before the first yield (CsrPlans
 * decides there whether the count is kept).
 */
async function countRows(
  s: Snapshot,
  direction: 'out' | 'in',
  labelIdx: number | null,
  bound: number,
  lengths: Float64Array,
  offsetsFor: (rows: number) => Float64Array,
): Promise<RowPlan> {
  const rowLids = vertexRows(s);
  const rows = rowLids.length;
  const offsets = offsetsFor(rows);
  // An unknown label: every row is empty. Otherwise the degree kernel writes every row's
  // length, so the (possibly reused) buffer needs no zeroing.
  if (labelIdx === null) lengths.fill(0);
  else {
    // Row lengths by the degree kernel (O(1) per list without deletions).
    for (let r0 = 0; r0 < rows; r0 += ROW_WINDOW) {
      degrees(s, direction, labelIdx, rowLids, lengths, r0, Math.min(rows, r0 + ROW_WINDOW));
      await nextTurn();
    }
  }
  let total = 0;
  offsets[0] = 0;
  for (let k = 0; k < rows; k++) {
    total += lengths[rowLids[k]];
    offsets[k + 1] = total;
  }
  return { rowLids, offsets, rows, entries: total, intIds: allIntegerKeys(s.idKeys(bound), bound), bound };
}

/**
 * Whether no local id below the bound is a string id (rows and neighbours are all there; ids
 * of vertices deleted before this epoch only make this conservative).
 */
function allIntegerKeys(keys: Float64Array, bound: number): boolean {
  // The key column may be longer than the bound (it grows in steps).
  for (let lid = 0; lid < bound; lid++) if (keys[lid] < 0) return false;
  return true;
}

/** Bytes a RowPlan of `rows` rows keeps: its row ids (4 each) and offsets (8 each, plus one). */
function rowPlanBytes(rows: number): number {
  return rows * 12 + 8;
}

interface Entry {
  readonly epoch: number;
  readonly plan: Promise<RowPlan>;
  /** Known once counted (0 while counting). */
  bytes: number;
}

/**
 * Counted rows by snapshot (`epoch/partition/direction/label index`), least recently used
 * first, within `maxBytes` in all. A count is shared while it runs; a count bigger than the
 * budget is not kept, and neither is one that fails.
 */
export class CsrPlans {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  /** `oldestEpoch`: the oldest retained epoch now (plans of older epochs are dropped). */
  constructor(
    private readonly maxBytes: number,
    private readonly oldestEpoch: () => number,
  ) {}

  /**
   * The rows counted for `key` (at `epoch`), counting them with `count` if none are kept.
   * `count` calls `keep(bytes)` before its first await: true when the count will be kept (and
   * shared with exports that ask while it runs), false when it is too big for the budget. A
   * count that did not ask is not kept.
   */
  get(
    key: string,
    epoch: number,
    count: (keep: (bytes: number) => boolean) => Promise<RowPlan>,
  ): Promise<RowPlan> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.plan;
    }
    let bytes = 0;
    const plan = count((b) => {
      bytes = b <= this.maxBytes ? b : 0;
      return bytes > 0;
    });
    if (bytes === 0) return plan;
    const entry: Entry = { epoch, plan, bytes: 0 };
    this.entries.set(key, entry);
    plan.then(
      () => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = bytes;
        this.bytes += bytes;
        this.trim();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return plan;
  }

  /** Bytes kept by finished counts. */
  get keptBytes(): number {
    return this.bytes;
  }

  /** How many snapshots' counts are kept or running. */
  get size(): number {
    return this.entries.size;
  }

  /** Drop plans of epochs no longer retained, then the least recently used over the budget. */
  private trim(): void {
    const oldest = this.oldestEpoch();
    for (const [key, e] of this.entries) {
      if (e.epoch < oldest) this.drop(key, e);
    }
    for (const [key, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (e.bytes > 0) this.drop(key, e);
    }
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}
