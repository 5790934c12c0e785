/**
 * A Snapshot: one partition read at one epoch. A PartitionReader (partition-reader.ts) opens
 * it; it stays registered in the reader registry for as long as it is open (close it!), reads
 * shared memory directly (no copy, no lock) and sees exactly the state sealed at the newest
 * epoch ≤ its epoch.
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import { readString, readVector } from './columns.js';
import { decodeF64 } from './edge-columns.js';
import * as layout from './layout.js';
import type { PartitionReader } from './partition-reader.js';
import type { PublishedSchema } from './published-schema.js';
import { endRead } from './reader-registry.js';
import * as recordRead from './record-read.js';
import { newVersionOut, readRecord, recordBlock, tableDir } from './record-read.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CORE_CREATED, CORE_DELETED, CORE_LABEL, CORE_WIDTH, CTL_LIDS, RECORD_BITS } = layout;
const { V_COUNT, V_DEL, V_HEAD, V_SETTLED } = recordRead;

export const DIRECTIONS = ['out', 'in', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** A property value as read: vectors come back as Float32Array. */
export type PropOut = number | string | boolean | Float32Array;

export interface VertexRecord {
  id: ExternalId;
  label: string;
  props: Record<string, PropOut>;
  createdEpoch: number;
}

/** A partition's CSR at one epoch: rows are local ids, neighbours are local ids. */
export interface LocalCsr {
  lids: Uint32Array;
  offsets: Float64Array;
  neighbors: Uint32Array;
}

/** A growable column of local ids (see Snapshot.appendNeighborLids): buf[0 .. length). */
export interface LidColumn {
  buf: Uint32Array;
  length: number;
}

export class Snapshot {
  private closed = false;
  private readonly out = newVersionOut();
  readonly schema: PublishedSchema;
  private readonly labelIndex = new Map<string, number>();

  constructor(
    readonly reader: PartitionReader,
    readonly epoch: number,
    private readonly slot: number,
  ) {
    this.schema = reader.schema;
    for (let i = 0; i < this.schema.edgeLabels.length; i++)
      this.labelIndex.set(this.schema.edgeLabels[i].name, i);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    endRead(this.reader.ctl, this.slot);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Throws INTERNAL when the snapshot is used after close. */
  check(): void {
    if (this.closed) throw new EpochgraphError('INTERNAL', 'snapshot used after close');
  }

  // -- vertices ----------------------------------------------------------------------------

  /** Local id of a vertex that exists in this partition at this epoch, or -1. */
  lookup(id: ExternalId): number {
    this.check();
    const lid = this.reader.ids.lookup(id);
    return lid >= 0 && this.exists(lid) ? lid : -1;
  }

  /** Whether local id `lid` is a vertex of this partition at this epoch. */
  exists(lid: number): boolean {
    const slot = this.reader.core().slot(lid, this.epoch);
    return slot !== 0 && this.reader.arena.word(slot + CORE_LABEL) !== 0;
  }

  externalId(lid: number): ExternalId {
    return this.reader.ids.externalId(lid);
  }

  /** The external id an id key of this partition stands for (see idKeys). */
  externalIdOfKey(k: number): ExternalId {
    return this.reader.ids.idOfKey(k);
  }

  /**
   * The id key column for local ids below `bound` (default localIdBound()): keys[lid] ≥ 0 is
   * the integer external id of lid; a negative key marks a string id (read it with
   * externalId); NaN marks a local id no id has (a hole, id-index.ts). For kernels that map
   * many local ids at once (CSR export).
   */
  idKeys(bound = this.localIdBound()): Float64Array {
    return this.reader.ids.keyColumn(bound);
  }

  /** The label index of an existing vertex (-1 if absent). */
  labelIndexOf(lid: number): number {
    const slot = this.reader.core().slot(lid, this.epoch);
    return slot === 0 ? -1 : this.reader.arena.word(slot + CORE_LABEL) - 1;
  }

  vertex(id: ExternalId): VertexRecord | null {
    const lid = this.lookup(id);
    if (lid < 0) return null;
    const a = this.reader.arena;
    const slot = this.reader.core().slot(lid, this.epoch);
    const labelIdx = a.word(slot + CORE_LABEL) - 1;
    return {
      id,
      label: this.schema.vertexLabels[labelIdx]?.name ?? '?',
      props: this.vertexProps(lid, labelIdx),
      createdEpoch: a.word(slot + CORE_CREATED),
    };
  }

  /** The epoch at which an existing vertex was (last) created. */
  createdEpoch(lid: number): number {
    const slot = this.reader.core().slot(lid, this.epoch);
    return slot === 0 ? 0 : this.reader.arena.word(slot + CORE_CREATED);
  }

  /** Deleted epoch recorded in the core (0 while alive). */
  deletedEpoch(lid: number): number {
    const slot = this.reader.core().slot(lid, this.epoch);
    return slot === 0 ? 0 : this.reader.arena.word(slot + CORE_DELETED);
  }

  vertexProps(lid: number, labelIdx: number, only?: readonly string[]): Record<string, PropOut> {
    const props: Record<string, PropOut> = {};
    const l = this.schema.vertexLabels[labelIdx];
    if (l === undefined) return props;
    const a = this.reader.arena;
    for (const p of l.props) {
      if (only !== undefined && !only.includes(p.name)) continue;
      const col = this.reader.columnReader(p.table, p.type === 'float64' ? 2 : 1);
      const slot = col.slot(lid, this.epoch);
      if (slot === 0) continue;
      switch (p.type) {
        case 'float64': {
          const x = a.f64[slot >>> a.chunkBits][(slot & a.chunkMask) >>> 1];
          if (!Number.isNaN(x)) props[p.name] = x;
          break;
        }
        case 'bool': {
          const w = a.word(slot);
          if (w !== 0) props[p.name] = w === 2;
          break;
        }
        case 'string': {
          const ref = a.word(slot);
          if (ref !== 0) props[p.name] = readString(a, ref);
          break;
        }
        case 'vector': {
          const ref = a.word(slot);
          if (ref !== 0) props[p.name] = readVector(a, ref);
          break;
        }
      }
    }
    return props;
  }

  /** Visit every vertex of this partition at this epoch, in local-id order. */
  forEachVertex(fn: (lid: number, labelIdx: number) => void): void {
    const a = this.reader.arena;
    const dir = tableDir(this.reader.ctl, this.schema.core);
    if (dir === 0) return;
    const ranges = a.word(dir);
    const out = this.out;
    for (let r = 0; r < ranges; r++) {
      const rb = a.word(dir + 2 + r);
      if (rb === 0) continue;
      for (let i = 0; i < 1 << RECORD_BITS; i++) {
        const page = (r << RECORD_BITS) + i;
        if (!readRecord(a, rb, page, this.epoch, out)) continue;
        const base = out[V_HEAD];
        for (let j = 0; j < 64; j++) {
          const label = a.word(base + j * CORE_WIDTH + CORE_LABEL);
          if (label !== 0) fn(page * 64 + j, label - 1);
        }
      }
    }
  }

  // -- edges -------------------------------------------------------------------------------

  edgeLabelNames(): string[] {
    return this.schema.edgeLabels.map((l) => l.name);
  }

  /** Index of an edge label, or -1 (a label unknown at this epoch has no edges). */
  edgeLabelIndex(name: string): number {
    return this.labelIndex.get(name) ?? -1;
  }

  /** The adjacency tables of `dir` for one label, or for every label (-1), in label order. */
  adjacencyTables(dir: 'out' | 'in', labelIdx = -1): number[] {
    const labels = this.schema.edgeLabels;
    const end = labelIdx < 0 ? labels.length : Math.min(labels.length, labelIdx + 1);
    const out: number[] = [];
    for (let l = Math.max(labelIdx, 0); l < end; l++) out.push(this.tableOf(l, dir));
    return out;
  }

  private tableOf(labelIdx: number, dir: 'out' | 'in'): number {
    const l = this.schema.edgeLabels[labelIdx];
    return dir === 'out' ? l.out : l.in;
  }

  /**
   * Resolve lid's list in one store into this.out: [head, count, del]. Returns count (0 when
   * the vertex had no list at this epoch).
   */
  private list(lid: number, table: number): number {
    const a = this.reader.arena;
    const rb = recordBlock(a, tableDir(this.reader.ctl, table), lid);
    if (!readRecord(a, rb, lid, this.epoch, this.out)) return 0;
    return this.out[V_COUNT];
  }

  /**
   * Visit lid's neighbours in one direction (label -1 = all labels): fn(neighbourLid,
   * entryAddress, labelIdx). Deleted entries are skipped; order is insertion order.
   */
  forEachNeighbor(
    lid: number,
    dir: 'out' | 'in',
    labelIdx: number,
    fn: (nbr: number, addr: number, labelIdx: number) => unknown,
  ): void {
    const a = this.reader.arena;
    const e = this.epoch;
    const labels = this.schema.edgeLabels.length;
    for (let l = Math.max(labelIdx, 0); l < (labelIdx < 0 ? labels : labelIdx + 1); l++) {
      const count = this.list(lid, this.tableOf(l, dir));
      if (count === 0) continue;
      const head = this.out[V_HEAD];
      const del = this.out[V_DEL];
      for (let i = 0; i < count; i++) {
        if (del !== 0) {
          const s = a.word(del + i);
          if (s !== 0 && s <= e) continue;
        }
        if (fn(a.word(head + i), head + i, l) === false) return;
      }
    }
  }

  /**
   * Append lid's `dir` neighbours (label -1 = all labels), as local ids, to `col`, growing its
   * buffer as needed: forEachNeighbor without a call per entry, for answers built from many
   * lists (batch neighbours). Map them to id keys afterwards, many lists at once (idKeys and
   * keysOfLids): the random key loads then overlap instead of waiting on each list.
   *
   * Returns how many of the entries appended came from lists whose version is settled at this
   * epoch (record-read.ts V_SETTLED). More than 0 proves that lid is a vertex at this epoch:
   * an edge's ends exist while it does (an upsert creates missing ends; deleting a vertex
   * deletes its edges in the same epoch, DESIGN §3). Otherwise the caller must check (exists)
   * before it keeps what was appended: a vertex first written after this epoch has lists
   * that read the same at every earlier epoch.
   */
  appendNeighborLids(lid: number, dir: 'out' | 'in', labelIdx: number, col: LidColumn): number {
    const a = this.reader.arena;
    const e = this.epoch;
    const labels = this.schema.edgeLabels.length;
    let settled = 0;
    for (let l = Math.max(labelIdx, 0); l < (labelIdx < 0 ? labels : labelIdx + 1); l++) {
      const count = this.list(lid, this.tableOf(l, dir));
      if (count === 0) continue;
      const head = this.out[V_HEAD];
      const del = this.out[V_DEL];
      let pos = col.length;
      if (pos + count > col.buf.length) {
        const next = new Uint32Array(Math.max(col.buf.length * 2, pos + count));
        next.set(col.buf.subarray(0, pos));
        col.buf = next;
      }
      const out = col.buf;
      // A list never crosses an arena chunk: read it from the chunk's view directly (a view
      // that covers its last entry, refreshed if the chunk grew since this reader looked).
      const A = a.chunk(head + count - 1);
      const o = head & a.chunkMask;
      if (del === 0) {
        for (let i = 0; i < count; i++) out[pos++] = A[o + i];
      } else {
        for (let i = 0; i < count; i++) {
          const s = a.word(del + i);
          if (s === 0 || s > e) out[pos++] = A[o + i];
        }
      }
      if (this.out[V_SETTLED] === 1) settled += pos - col.length;
      col.length = pos;
    }
    return settled;
  }

  degree(lid: number, dir: 'out' | 'in', labelIdx = -1): number {
    let n = 0;
    const a = this.reader.arena;
    const e = this.epoch;
    const labels = this.schema.edgeLabels.length;
    for (let l = Math.max(labelIdx, 0); l < (labelIdx < 0 ? labels : labelIdx + 1); l++) {
      const count = this.list(lid, this.tableOf(l, dir));
      if (count === 0) continue;
      const del = this.out[V_DEL];
      if (del === 0) {
        n += count;
        continue;
      }
      for (let i = 0; i < count; i++) {
        const s = a.word(del + i);
        if (s === 0 || s > e) n++;
      }
    }
    return n;
  }

  /** Properties of the out-entry at `addr` of label `labelIdx`. */
  edgeProps(labelIdx: number, addr: number, only?: readonly string[]): Record<string, PropOut> {
    const props: Record<string, PropOut> = {};
    const l = this.schema.edgeLabels[labelIdx];
    if (l === undefined) return props;
    const a = this.reader.arena;
    const k = addr >>> a.chunkBits;
    const off = addr & a.chunkMask;
    for (const p of l.props) {
      if (only !== undefined && !only.includes(p.name)) continue;
      const c = this.reader.edgeColumn(p.ecol);
      if (p.kind === 'f64') {
        const arr = c.f64[k];
        const x = off < arr.length ? decodeF64(arr[off]) : Number.NaN;
        if (!Number.isNaN(x)) props[p.name] = x;
        continue;
      }
      const arr = c.u32[k];
      const w = off < arr.length ? arr[off] : 0;
      if (w === 0) continue;
      if (p.type === 'bool') props[p.name] = w === 2;
      else if (p.type === 'string') props[p.name] = readString(a, w);
      else props[p.name] = readVector(a, w);
    }
    return props;
  }

  /** Address of the live out-entry src -> dst of a label at this epoch, or 0. */
  findOutEntry(src: number, dst: number, labelIdx: number): number {
    let found = 0;
    this.forEachNeighbor(src, 'out', labelIdx, (nbr, addr) => {
      if (nbr === dst) {
        found = addr;
        return false;
      }
      return true;
    });
    return found;
  }

  /**
   * The partition's CSR at this epoch for one direction (label -1 = all): rows are this
   * partition's vertices in local-id order, neighbours are local ids (possibly of ghosts).
   */
  csr(dir: 'out' | 'in', labelIdx = -1): LocalCsr {
    const rows: number[] = [];
    this.forEachVertex((lid) => rows.push(lid));
    const lids = Uint32Array.from(rows);
    const offsets = new Float64Array(lids.length + 1);
    let total = 0;
    for (let i = 0; i < lids.length; i++) {
      total += this.degree(lids[i], dir, labelIdx);
      offsets[i + 1] = total;
    }
    const neighbors = new Uint32Array(total);
    let pos = 0;
    for (let i = 0; i < lids.length; i++) {
      this.forEachNeighbor(lids[i], dir, labelIdx, (nbr) => {
        neighbors[pos++] = nbr;
      });
    }
    return { lids, offsets, neighbors };
  }

  /** An upper bound on this epoch's local ids (the count at the newest seal). */
  localIdBound(): number {
    return Atomics.load(this.reader.ctl, CTL_LIDS);
  }
}
