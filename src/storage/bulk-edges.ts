/**
 * The columnar bulk form of edge upserts (a batch's `edges`), applied to a partition's open
 * epoch after the batch's ops (batch-apply.ts): ids mapped first, missing endpoints created,
 * then groups of edges whose cache misses are taken together before the real work.
 */
import { utf8 } from '../model/ids.js';
import type { AppliedCounts, EdgeColumns } from '../model/ops.js';
import { DEFAULT_EDGE_LABEL, DEFAULT_VERTEX_LABEL, type Props, type PropValue } from '../model/schema.js';
import type { IdIndex } from './id-index.js';
import * as layout from './layout.js';
import type { LidMark } from './lid-mark.js';
import * as recordTable from './record-table.js';
import type { EdgeLabel, EdgeProp, StoreCore } from './store-core.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { W_COUNT, W_STRIDE } = recordTable;
const { RECORD_BITS, SINK_MASK } = layout;

/** Edges per group in the bulk path's touch-then-work loops (a power of two). */
const BULK_GROUP = 128;
/** Every how many edges of a bulk batch the recurring share samples (AdjacencyStore.noteBatch). */
const RECURRING_SAMPLE_STEP = 16;
/** Edges per source vertex range, on average, from which a bulk batch is ordered by range. */
const SORT_EDGES_PER_RANGE = 8;

/** A bulk batch's endpoint columns in the order phase 3 takes them, with each row's index. */
interface EdgeRows {
  sl: Uint32Array;
  dl: Uint32Array;
  own: Uint8Array;
  /** Row k's index in the batch (its property values), or null when the order is the batch's. */
  row: Uint32Array | null;
}

/** Rows of scratch columns kept between batches (larger batches get their own, ~18 B a row). */
const SCRATCH_KEEP = 1 << 18;

/** The bulk path's working columns: the batch's order, and bySourceRange's. */
interface WorkColumns {
  batch: EdgeRows;
  sorted: EdgeRows & { row: Uint32Array };
}

/**
 * The working columns, reused from batch to batch (the apply is synchronous and not
 * re-entered). Fresh ones cost every batch an allocation, zeroing and later collection of ~18
 * bytes per edge: reuse made `npm run ab -- insert` 1.011× (1.013, 1.009 by order), and one
 * store under the HTTP ingest bench's load (fresh vertices) 3-5% faster
 * (scratch/ingest-mem.mjs, alternating builds).
 */
class Scratch {
  /** Where the touch loads end up (never read). */
  sink = 0;
  private cap = 0;
  private cols: WorkColumns | null = null;

  /** Columns of at least n rows (their contents are stale). */
  take(n: number): WorkColumns {
    if (n > SCRATCH_KEEP) return columns(n);
    if (this.cols === null || n > this.cap) {
      this.cap = Math.min(SCRATCH_KEEP, Math.max(n, 2 * this.cap));
      this.cols = columns(this.cap);
    }
    return this.cols;
  }
}

function columns(n: number): WorkColumns {
  return {
    batch: { sl: new Uint32Array(n), dl: new Uint32Array(n), own: new Uint8Array(n), row: null },
    sorted: {
      sl: new Uint32Array(n),
      dl: new Uint32Array(n),
      own: new Uint8Array(n),
      row: new Uint32Array(n),
    },
  };
}

const scratch = new Scratch();

/**
 * The rows ordered by their source's vertex range (a stable counting sort), so that the out
 * side's writer state, block tails and records (kept by vertex range) are visited range by
 * range instead of at random: bulk inserts 1.7-2.5% faster at 1M vertices / 10M edges and
 * 3.9-4.7% at 3M / 30M (`npm run ab -- insert`, geometric mean of both orders). A source's
 * edges keep their order, so a repeated edge's last properties still win; in-lists get their
 * entries in the new order.
 */
function bySourceRange(rows: EdgeRows, n: number, ranges: number, out: WorkColumns['sorted']): EdgeRows {
  const { sl, dl, own } = rows;
  const counts = new Uint32Array(ranges + 1);
  for (let i = 0; i < n; i++) counts[(sl[i] >>> RECORD_BITS) + 1]++;
  for (let r = 0; r < ranges; r++) counts[r + 1] += counts[r];
  const row = out.row;
  for (let i = 0; i < n; i++) {
    const k = counts[sl[i] >>> RECORD_BITS]++;
    out.sl[k] = sl[i];
    out.dl[k] = dl[i];
    out.own[k] = own[i];
    row[k] = i;
  }
  return out;
}

function isNumericColumn(c: ArrayLike<unknown>): boolean {
  return c instanceof Float64Array || c instanceof Uint32Array || c instanceof Int32Array;
}

/**
 * The columnar bulk form, in phases (DESIGN §11.4): map every id first, create missing
 * vertices, then process groups of edges with a tight loop that touches the writer records
 * and block tails before the real work, so their cache misses overlap.
 *
 * Each phase's loop is a function of its own. One function holding every loop was optimized
 * on stack (OSR) inside its first loop, before the later loops and the calls between them
 * had type feedback, and each of those deoptimized it in turn: it was compiled ~16 times in
 * a partition worker's first 50 batches (~28 ms of compiler thread each, the rest of the
 * batch in the interpreter meanwhile). Split, applyRows is compiled ~8 times and mapIds ~7,
 * as paths are first taken (scratch/durable-cpu.mjs, --trace-opt).
 */
export function applyEdgeColumns(
  core: StoreCore,
  e: EdgeColumns,
  O: number,
  pub: number,
  counts: AppliedCounts,
): void {
  const n = e.src.length;
  if (n === 0) return;
  const L = core.edgeLabel(e.label ?? DEFAULT_EDGE_LABEL);
  const names = e.props === undefined ? [] : Object.keys(e.props);
  const work = scratch.take(n);
  // Which local ids this batch creates (for the recurring share, AdjacencyStore.noteBatch).
  const before = core.ids.mark();
  mapIds(core.ids, e, n, work.batch);
  const top = core.ids.bound - 1;
  core.ensureLid(top);
  core.ensureStores(L, top);
  createEndpoints(core, work.batch, n, O, pub);
  noteRecurring(L, before, work.batch, n);
  const ranges = (top >>> RECORD_BITS) + 1;
  const rows =
    n >= SORT_EDGES_PER_RANGE * ranges ? bySourceRange(work.batch, n, ranges, work.sorted) : work.batch;
  const bulk: BulkProps = {
    names,
    cols: names.map((k) => (e.props as Record<string, ArrayLike<PropValue>>)[k]),
    props: names.map((k) => L.props.get(k) as EdgeProp),
    // The label's other properties: a new edge has none of them.
    unset: L.propList.filter((q) => !names.includes(q.spec.name)),
  };
  counts.upsertedEdges += applyRows(core, L, rows, n, bulk, O, pub);
}

/** A bulk batch's edge property columns, and the label's properties it leaves unset. */
interface BulkProps {
  names: string[];
  cols: ArrayLike<PropValue>[];
  props: EdgeProp[];
  unset: EdgeProp[];
}

/**
 * Phase 1: ids -> local ids in rows.sl and rows.dl, and ownership in rows.own (bit 1: src
 * here, bit 2: dst here).
 */
function mapIds(ids: IdIndex, e: EdgeColumns, n: number, rows: EdgeRows): void {
  const { sl, dl, own } = rows;
  const numeric = isNumericColumn(e.src) && isNumericColumn(e.dst);
  let touched = 0;
  for (let i = 0; i < n; i++) {
    if (numeric && (i & (BULK_GROUP - 1)) === 0) {
      const end = Math.min(n, i + BULK_GROUP);
      touched =
        (touched +
          ids.touchInts(e.src as ArrayLike<number>, i, end) +
          ids.touchInts(e.dst as ArrayLike<number>, i, end)) &
        SINK_MASK;
    }
    const s = e.src[i];
    sl[i] = typeof s === 'number' ? ids.intId(s) : ids.stringId(utf8(s));
    const os = ids.ownsHash(ids.lastHash) ? 1 : 0;
    const d = e.dst[i];
    dl[i] = typeof d === 'number' ? ids.intId(d) : ids.stringId(utf8(d));
    const od = ids.ownsHash(ids.lastHash) ? 2 : 0;
    own[i] = os | od;
  }
  // Keeps the touch loads observable (a field store: no test and no throw after the loop).
  scratch.sink = touched;
}

/** Phase 2: endpoints this partition owns must exist. */
function createEndpoints(core: StoreCore, rows: EdgeRows, n: number, O: number, pub: number): void {
  const { sl, dl, own } = rows;
  const vt = core.vertices;
  const defaultLabel = vt.labelId(DEFAULT_VERTEX_LABEL);
  for (let i = 0; i < n; i++) {
    if ((own[i] & 1) !== 0 && !vt.isAlive(sl[i])) vt.create(sl[i], defaultLabel, O, pub);
    if ((own[i] & 2) !== 0 && !vt.isAlive(dl[i])) vt.create(dl[i], defaultLabel, O, pub);
  }
}

/** The share of edges with an endpoint older than the batch, from a sample of them. */
function noteRecurring(L: EdgeLabel, before: LidMark, rows: EdgeRows, n: number): void {
  const { sl, dl } = rows;
  let sampled = 0;
  let recurring = 0;
  for (let i = 0; i < n; i += RECURRING_SAMPLE_STEP, sampled++) {
    if (!before.isNew(sl[i]) || !before.isNew(dl[i])) recurring++;
  }
  L.out.noteBatch(sampled, recurring);
  L.in.noteBatch(sampled, recurring);
}

/**
 * Phase 3: groups of edges (a bulk batch's ordered by source range, bySourceRange), their
 * writer records and block tails touched before the work. Returns the edges upserted.
 */
function applyRows(
  core: StoreCore,
  L: EdgeLabel,
  rows: EdgeRows,
  n: number,
  bulk: BulkProps,
  O: number,
  pub: number,
): number {
  const { cols, props, unset } = bulk;
  const srcs = rows.sl;
  const dsts = rows.dl;
  const owners = rows.own;
  const rowOf = rows.row;
  const out = L.out;
  const inn = L.in;
  let touched = 0;
  let upserted = 0;
  for (let g = 0; g < n; g += BULK_GROUP) {
    const end = Math.min(n, g + BULK_GROUP);
    const ow = out.table.w;
    const iw = inn.table.w;
    // Touch: the writer records of both endpoints (independent loads, overlapped misses).
    for (let k = g; k < end; k++)
      touched = (touched + ow[srcs[k] * W_STRIDE + W_COUNT] + iw[dsts[k] * W_STRIDE + W_COUNT]) & SINK_MASK;
    // Touch: the tails of the blocks the appends will write.
    touched = (touched + out.touchTails(srcs, g, end) + inn.touchTails(dsts, g, end)) & SINK_MASK;
    for (let k = g; k < end; k++) {
      const s = srcs[k];
      const d = dsts[k];
      const o = owners[k];
      let exists: boolean;
      if (o === 3) {
        exists = inn.length(d) < out.length(s) ? inn.find(d, s) !== 0 : out.find(s, d) !== 0;
      } else if (o === 1) exists = out.find(s, d) !== 0;
      else if (o === 2) exists = inn.find(d, s) !== 0;
      else continue;
      if ((o & 1) !== 0) upserted++;
      const i = rowOf === null ? k : rowOf[k];
      if (exists) {
        // Rare in bulk loads: replace the properties through the general path.
        replaceExistingEdge(core, L, s, d, o, rowProps(bulk, i), O, pub);
        continue;
      }
      if ((o & 1) !== 0) {
        const a = out.append(s, d, O, pub);
        for (let j = 0; j < props.length; j++) core.writeEdgeProp(props[j], a, cols[j][i]);
        for (let j = 0; j < unset.length; j++) unset[j].column.clear(a);
        core.edgeCount++;
      }
      if ((o & 2) !== 0) inn.append(d, s, O, pub);
      core.changed = true;
    }
  }
  scratch.sink = touched; // (see mapIds)
  return upserted;
}

/** Row i's properties (undefined when the batch has none), for the general upsert path. */
function rowProps(bulk: BulkProps, i: number): Props | undefined {
  if (bulk.names.length === 0) return undefined;
  const row: Props = {};
  for (let j = 0; j < bulk.names.length; j++) row[bulk.names[j]] = bulk.cols[j][i];
  return row;
}

/** An upsert of an edge that exists: replace its properties unless they are equal. */
function replaceExistingEdge(
  core: StoreCore,
  L: EdgeLabel,
  s: number,
  d: number,
  own: number,
  props: Props | undefined,
  O: number,
  pub: number,
) {
  if ((own & 1) === 0) return;
  const outAddr = L.out.find(s, d);
  if (core.sameEdgeProps(L, outAddr, props)) return;
  core.retireEdgeBlobs(L, outAddr, O, pub);
  L.out.deleteEntry(s, outAddr, O);
  const a = L.out.append(s, d, O, pub);
  core.writeEdgeProps(L, a, props);
  core.changed = true;
}
