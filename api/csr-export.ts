/**
 * Streamed export of one partition's CSR at one epoch, as msgpack or JSON:
 * `{ epoch, partition, ids, offsets, neighbors }`. The partition is never materialized whole:
 * a counting pass over the (immutable) snapshot (csr-plan.ts, kept per snapshot) learns the
 * rows, every row's length and whether every id is an integer, which is all the msgpack
 * headers need; then ids, offsets and neighbours are produced in chunks of about
 * `csrChunkBytes` (at most 64 chunks of neighbours), yielding to the event loop after each
 * chunk. Rows are read with the storage engine's range-scan kernels (gatherNeighborKeys,
 * gatherNeighbors), confined to a window of rows, not with a callback per edge. The state
 * kept (not per edge) is a cursor per local id (8 bytes) and per row its local id and offset
 * (12 bytes; the offsets are sent as they are).
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
import { gatherNeighborKeys, gatherNeighbors } from '../src/storage/gather-kernels.js';
import type { ExportPart } from './chunk-buffers.js';
import { type CsrPlan, ROW_WINDOW } from './csr-plan.js';

/** Type code of Float64Array in msgpackr's typed-array extension. */
const F64_TYPE_CODE = 8;
/** msgpackr's ext type for typed arrays ("t"). */
const TYPED_ARRAY_EXT = 0x74;
const MAX_EXT32 = 0xffffffff;

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
  const rows = plan.rows;
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
  const rows = plan.rows;
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

/** The row ids, ROW_WINDOW rows at a time. */
async function* idChunks(plan: CsrPlan, typed: boolean): AsyncGenerator<Chunk> {
  const { rowLids, rows, snapshot: s } = plan;
  for (let r0 = 0; r0 < rows; r0 += ROW_WINDOW) {
    const r1 = Math.min(rows, r0 + ROW_WINDOW);
    if (typed) yield gatherKeys(plan.keys, rowLids, r0, r1, plan.alloc(r1 - r0));
    else {
      const out: ExternalId[] = new Array(r1 - r0);
      for (let k = r0; k < r1; k++) out[k - r0] = s.externalId(rowLids[k]);
      yield out;
    }
    await nextTurn();
  }
}

function gatherKeys(
  keys: Float64Array,
  lids: Uint32Array,
  from: number,
  to: number,
  out: Float64Array,
): Float64Array {
  for (let k = from; k < to; k++) out[k - from] = keys[lids[k]];
  return out;
}

/** The offsets column, ROW_WINDOW + 1 entries at a time (views of plan.offsets, no copy). */
async function* offsetChunks(plan: CsrPlan): AsyncGenerator<Float64Array> {
  const { offsets, rows } = plan;
  yield offsets.subarray(0, 1);
  for (let r0 = 1; r0 <= rows; r0 += ROW_WINDOW) {
    yield offsets.subarray(r0, Math.min(rows + 1, r0 + ROW_WINDOW));
    await nextTurn();
  }
}

/**
 * Neighbour ids, a chunk of about chunkEntries entries (whole rows, at least one) at a time:
 * the scan kernel copies the chunk's rows (no per-edge callback), as external ids directly
 * when every id is an integer. Each row must come out exactly as long as counted.
 */
async function* neighborChunks(plan: CsrPlan, typed: boolean): AsyncGenerator<Chunk> {
  const { rowLids, offsets, rows, cursor, snapshot: s, chunkEntries, direction, labelIdx } = plan;
  if (labelIdx === null) return;
  let r0 = 0;
  while (r0 < rows) {
    const base = offsets[r0];
    let r1 = r0 + 1;
    while (r1 < rows && offsets[r1 + 1] - base <= chunkEntries) r1++;
    const n = offsets[r1] - base;
    if (n > 0) {
      setCursors(cursor, rowLids, offsets, r0, r1);
      let chunk: Chunk;
      if (typed) {
        const out = plan.alloc(n);
        gatherNeighborKeys(s, direction, labelIdx, rowLids, cursor, plan.keys, out, r0, r1);
        chunk = out;
      } else {
        const local = new Uint32Array(n);
        gatherNeighbors(s, direction, labelIdx, rowLids, cursor, local, undefined, r0, r1);
        const out: ExternalId[] = new Array(n);
        for (let k = 0; k < n; k++) out[k] = s.externalId(local[k]);
        chunk = out;
      }
      const short = firstShortRow(cursor, rowLids, offsets, r0, r1);
      if (short >= 0) throw drift(plan, base + cursor[rowLids[short]]);
      yield chunk;
    }
    r0 = r1;
    await nextTurn();
  }
}

/** cursor[row's lid] = where the row starts within the chunk of rows [r0, r1). */
function setCursors(
  cursor: Float64Array,
  lids: Uint32Array,
  offsets: Float64Array,
  r0: number,
  r1: number,
): void {
  const base = offsets[r0];
  for (let k = r0; k < r1; k++) cursor[lids[k]] = offsets[k] - base;
}

/** The first row of [r0, r1) whose cursor did not end where the row ends, or -1. */
function firstShortRow(
  cursor: Float64Array,
  lids: Uint32Array,
  offsets: Float64Array,
  r0: number,
  r1: number,
): number {
  const base = offsets[r0];
  for (let k = r0; k < r1; k++) if (cursor[lids[k]] !== offsets[k + 1] - base) return k;
  return -1;
}

function drift(plan: CsrPlan, got: number): EpochgraphError {
  return new EpochgraphError(
    'INTERNAL',
    `CSR export of partition ${plan.partition} at epoch ${plan.epoch}: counted ${plan.entries} entries, produced ${got}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Encoders

/** A part made here (a header or packed elements), not a chunk buffer. */
function made(bytes: Buffer): ExportPart {
  return { bytes, reusable: false };
}

/** A chunk buffer from plan.alloc, filled once and sent once. */
function chunk(a: Float64Array): ExportPart {
  return { bytes: f64Bytes(a), reusable: true };
}

/**
 * The msgpack export as a sequence of parts (the concatenation of their bytes is one msgpack
 * map). The offsets parts are views of plan.offsets: not reusable until the export is sent.
 */
export async function* msgpackCsr(plan: CsrPlan): AsyncGenerator<ExportPart> {
  const l = layoutOf(plan);
  const rows = plan.rows;
  yield made(msgpackHead(plan));
  yield made(l.idsTyped ? f64Header(rows) : arrayHeader(rows));
  for await (const c of idChunks(plan, l.idsTyped)) {
    yield c instanceof Float64Array ? chunk(c) : made(packedElements(c));
  }
  yield made(packMsgpack('offsets') as Buffer);
  yield made(l.offsetsTyped ? f64Header(rows + 1) : arrayHeader(rows + 1));
  for await (const c of offsetChunks(plan)) {
    yield made(l.offsetsTyped ? f64Bytes(c) : packedElements(Array.from(c)));
  }
  yield made(packMsgpack('neighbors') as Buffer);
  yield made(l.neighborsTyped ? f64Header(plan.entries) : arrayHeader(plan.entries));
  for await (const c of neighborChunks(plan, l.neighborsTyped)) {
    yield c instanceof Float64Array ? chunk(c) : made(packedElements(c));
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
