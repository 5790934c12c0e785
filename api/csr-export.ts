/**
 * Streamed export of one partition's CSR at one epoch, as msgpack or JSON:
 * `{ epoch, partition, ids, offsets, neighbors }`. The partition is never materialized whole:
 * a counting pass over the (immutable) snapshot learns the row count, the entry count and
 * whether every id is an integer, which is all the msgpack headers need; then ids, offsets and
 * neighbours are produced in chunks of about `csrChunkBytes`, yielding to the event loop after
 * each chunk. The only O(rows) state is the list of local row ids (4 bytes per row).
 *
 * msgpack framing follows src/codec/msgpack.ts (msgpackr with `moreTypes`): a typed array is
 * an ext value of type 0x74 whose data is one type-code byte (8 = Float64Array) and then the
 * array's bytes, in the ext8/16/32 form msgpackr picks for that length, so the same Unpackr
 * decodes the stream into Float64Arrays. Columns with string ids are msgpack arrays, streamed
 * by packing chunk arrays and dropping their array headers.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { packMsgpack } from '../src/codec/msgpack.js';
import { EpochgraphError } from '../src/errors.js';
import type { ExternalId } from '../src/model/ids.js';
import type { GraphSnapshot } from '../src/storage/graph-snapshot.js';
import type { Snapshot } from '../src/storage/index.js';

/** Type code of Float64Array in msgpackr's typed-array extension. */
const F64_TYPE_CODE = 8;
/** msgpackr's ext type for typed arrays ("t"). */
const TYPED_ARRAY_EXT = 0x74;
const MAX_EXT32 = 0xffffffff;

export interface CsrPlan {
  readonly epoch: number;
  readonly partition: number;
  readonly snapshot: Snapshot;
  readonly direction: 'out' | 'in';
  /** Edge label index, -1 for every label, or null when the label does not exist (no entries). */
  readonly labelIdx: number | null;
  /** Local ids of the rows, in local-id order. */
  readonly lids: Uint32Array;
  /** Total neighbour entries. */
  readonly entries: number;
  /** Whether every id (rows and neighbours) is an integer, so id columns can be Float64Arrays. */
  readonly intIds: boolean;
  readonly chunkEntries: number;
  readonly yieldEvery: number;
}

/** The counting pass. The snapshot must stay open until the export is consumed. */
export async function planCsr(
  snap: GraphSnapshot,
  partition: number,
  direction: 'out' | 'in',
  label: string | undefined,
  opts: { chunkBytes: number; yieldEvery: number },
): Promise<CsrPlan> {
  const s = snap.partition(partition);
  const idx = label === undefined ? -1 : s.edgeLabelIndex(label);
  const labelIdx = idx < 0 && label !== undefined ? null : idx;
  let rows = new Uint32Array(1024);
  let n = 0;
  s.forEachVertex((lid) => {
    if (n === rows.length) {
      const next = new Uint32Array(rows.length * 2);
      next.set(rows);
      rows = next;
    }
    rows[n++] = lid;
  });
  const lids = rows.subarray(0, n);
  let entries = 0;
  if (labelIdx !== null) {
    for (let i = 0; i < n; i++) {
      entries += s.degree(lids[i], direction, labelIdx);
      if ((i & 0xffff) === 0xffff) await nextTurn();
    }
  }
  // Rows and neighbours are local ids below the bound; one string among them rules out typed
  // id columns. (Ids of vertices deleted before this epoch can only make this conservative.)
  let intIds = true;
  const bound = s.localIdBound();
  for (let lid = 0; lid < bound; lid++) {
    if (typeof s.externalId(lid) !== 'number') {
      intIds = false;
      break;
    }
    if ((lid & 0xfffff) === 0xfffff) await nextTurn();
  }
  return {
    epoch: snap.epoch,
    partition,
    snapshot: s,
    direction,
    labelIdx,
    lids,
    entries,
    intIds,
    chunkEntries: Math.max(1024, Math.floor(opts.chunkBytes / 8)),
    yieldEvery: opts.yieldEvery,
  };
}

// ---------------------------------------------------------------------------------------------
// msgpack framing

function f64Header(count: number): Buffer {
  const len = count * 8 + 1; // plus the type-code byte
  if (len < 0x100) return Buffer.from([0xc7, len, TYPED_ARRAY_EXT, F64_TYPE_CODE]);
  if (len < 0x10000) return Buffer.from([0xc8, len >> 8, len & 0xff, TYPED_ARRAY_EXT, F64_TYPE_CODE]);
  const b = Buffer.alloc(7);
  b[0] = 0xc9;
  b.writeUInt32BE(len, 1);
  b[5] = TYPED_ARRAY_EXT;
  b[6] = F64_TYPE_CODE;
  return b;
}

function arrayHeader(count: number): Buffer {
  if (count < 0x10) return Buffer.from([0x90 | count]);
  if (count < 0x10000) return Buffer.from([0xdc, count >> 8, count & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0xdd;
  b.writeUInt32BE(count, 1);
  return b;
}

/** The elements of an array in msgpack, without the array's own header. */
function packedElements(items: readonly unknown[]): Buffer {
  const packed = packMsgpack(items);
  const skip = items.length < 0x10 ? 1 : items.length < 0x10000 ? 3 : 5;
  return Buffer.from(packed.buffer, packed.byteOffset + skip, packed.byteLength - skip);
}

function f64Bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Whether a Float64Array of `count` entries fits one msgpack ext32. */
function fitsExt(count: number): boolean {
  return count * 8 + 1 <= MAX_EXT32;
}

/** Column layout of the export: typed (Float64Array ext) or a msgpack array. */
interface Layout {
  idsTyped: boolean;
  offsetsTyped: boolean;
  neighborsTyped: boolean;
}

function layoutOf(plan: CsrPlan): Layout {
  const rows = plan.lids.length;
  return {
    idsTyped: plan.intIds && fitsExt(rows),
    offsetsTyped: fitsExt(rows + 1),
    neighborsTyped: plan.intIds && fitsExt(plan.entries),
  };
}

function msgpackHead(plan: CsrPlan): Buffer {
  return Buffer.concat([
    Buffer.from([0x85]), // a map of five entries
    packMsgpack('epoch'),
    packMsgpack(plan.epoch),
    packMsgpack('partition'),
    packMsgpack(plan.partition),
    packMsgpack('ids'),
  ]);
}

/** The byte length of the msgpack export, when every column is typed (else unknown: null). */
export function msgpackLength(plan: CsrPlan): number | null {
  const l = layoutOf(plan);
  if (!(l.idsTyped && l.offsetsTyped && l.neighborsTyped)) return null;
  const rows = plan.lids.length;
  return (
    msgpackHead(plan).length +
    f64Header(rows).length +
    rows * 8 +
    packMsgpack('offsets').length +
    f64Header(rows + 1).length +
    (rows + 1) * 8 +
    packMsgpack('neighbors').length +
    f64Header(plan.entries).length +
    plan.entries * 8
  );
}

// ---------------------------------------------------------------------------------------------
// Column producers (format-neutral chunks: Float64Array or id arrays)

type Chunk = Float64Array | ExternalId[];

async function* idChunks(plan: CsrPlan, typed: boolean): AsyncGenerator<Chunk> {
  const { lids, snapshot: s, chunkEntries } = plan;
  for (let i = 0; i < lids.length; i += chunkEntries) {
    const end = Math.min(lids.length, i + chunkEntries);
    if (typed) {
      const out = new Float64Array(end - i);
      for (let k = i; k < end; k++) out[k - i] = s.externalId(lids[k]) as number;
      yield out;
    } else {
      const out: ExternalId[] = [];
      for (let k = i; k < end; k++) out.push(s.externalId(lids[k]));
      yield out;
    }
    await nextTurn();
  }
}

async function* offsetChunks(plan: CsrPlan): AsyncGenerator<Float64Array> {
  const { lids, snapshot: s, chunkEntries, direction, labelIdx } = plan;
  let total = 0;
  let first = true;
  for (let i = 0; i < lids.length || first; i += chunkEntries) {
    const end = Math.min(lids.length, i + chunkEntries);
    const out = new Float64Array(end - i + (first ? 1 : 0));
    let k = 0;
    if (first) out[k++] = 0;
    first = false;
    for (let r = i; r < end; r++) {
      if (labelIdx !== null) total += s.degree(lids[r], direction, labelIdx);
      out[k++] = total;
    }
    yield out;
    await nextTurn();
  }
  if (total !== plan.entries) throw drift(plan, total);
}

async function* neighborChunks(plan: CsrPlan, typed: boolean): AsyncGenerator<Chunk> {
  const { lids, snapshot: s, chunkEntries, direction, labelIdx } = plan;
  if (labelIdx === null) return;
  const full: Chunk[] = [];
  let nums = new Float64Array(chunkEntries);
  let ids: ExternalId[] = [];
  let k = 0;
  let emitted = 0;
  // Visitors are built once; a row longer than a chunk spills whole chunks into `full`.
  const typedVisit = (nbr: number) => {
    nums[k++] = s.externalId(nbr) as number;
    if (k === chunkEntries) {
      full.push(nums);
      nums = new Float64Array(chunkEntries);
      k = 0;
    }
  };
  const plainVisit = (nbr: number) => {
    ids.push(s.externalId(nbr));
    if (ids.length === chunkEntries) {
      full.push(ids);
      ids = [];
    }
  };
  const visit = typed ? typedVisit : plainVisit;
  let sinceYield = 0;
  for (let r = 0; r < lids.length; r++) {
    s.forEachNeighbor(lids[r], direction, labelIdx, visit);
    if (full.length > 0) {
      for (const c of full) {
        emitted += c.length;
        yield c;
      }
      full.length = 0;
      await nextTurn();
      sinceYield = 0;
    } else if (++sinceYield >= plan.yieldEvery) {
      sinceYield = 0;
      await nextTurn();
    }
  }
  const rest = typed ? nums.subarray(0, k) : ids;
  if (rest.length > 0) {
    emitted += rest.length;
    yield rest;
  }
  if (emitted !== plan.entries) throw drift(plan, emitted);
}

function drift(plan: CsrPlan, got: number): EpochgraphError {
  return new EpochgraphError(
    'INTERNAL',
    `CSR export of partition ${plan.partition} at epoch ${plan.epoch}: counted ${plan.entries} entries, produced ${got}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Encoders

/** The msgpack export as a sequence of buffers (the concatenation is one msgpack map). */
export async function* msgpackCsr(plan: CsrPlan): AsyncGenerator<Buffer> {
  const l = layoutOf(plan);
  const rows = plan.lids.length;
  yield msgpackHead(plan);
  yield l.idsTyped ? f64Header(rows) : arrayHeader(rows);
  for await (const c of idChunks(plan, l.idsTyped)) {
    yield c instanceof Float64Array ? f64Bytes(c) : packedElements(c);
  }
  yield packMsgpack('offsets') as Buffer;
  yield l.offsetsTyped ? f64Header(rows + 1) : arrayHeader(rows + 1);
  for await (const c of offsetChunks(plan)) {
    yield l.offsetsTyped ? f64Bytes(c) : packedElements(Array.from(c));
  }
  yield packMsgpack('neighbors') as Buffer;
  yield l.neighborsTyped ? f64Header(plan.entries) : arrayHeader(plan.entries);
  for await (const c of neighborChunks(plan, l.neighborsTyped)) {
    if (c instanceof Float64Array) yield f64Bytes(c);
    else yield packedElements(c);
  }
}

function jsonElements(c: Chunk): string {
  if (c instanceof Float64Array) return c.join(',');
  const s = JSON.stringify(c);
  return s.slice(1, -1);
}

async function* jsonColumn(chunks: AsyncIterable<Chunk>): AsyncGenerator<string> {
  let first = true;
  for await (const c of chunks) {
    if (c.length === 0) continue;
    yield first ? jsonElements(c) : `,${jsonElements(c)}`;
    first = false;
  }
}

/** The JSON export as a sequence of strings (the concatenation is one JSON object). */
export async function* jsonCsr(plan: CsrPlan): AsyncGenerator<string> {
  yield `{"epoch":${plan.epoch},"partition":${plan.partition},"ids":[`;
  yield* jsonColumn(idChunks(plan, plan.intIds));
  yield '],"offsets":[';
  yield* jsonColumn(offsetChunks(plan));
  yield '],"neighbors":[';
  yield* jsonColumn(neighborChunks(plan, plan.intIds));
  yield ']}';
}
