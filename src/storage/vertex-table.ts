/**
 * The writer's vertex table: existence, label and typed properties of the partition's own
 * vertices, all in copy-on-write column pages.
 *
 * The core column holds [labelId + 1 (0 = absent), createdEpoch, deletedEpoch] per local id.
 * Each (vertex label, property) has its own column: float64 values inline (NaN = absent),
 * bool as 1/2 (0 = absent), strings and vectors as blob references (0 = absent).
 */
import type { PropertySpec, Props, PropValue } from '../model/schema.js';
import type { Arena, BlockPool } from './arena-allocator.js';
import { type BlobStore, PageColumn } from './columns.js';
import * as layout from './layout.js';
import type { TableRegistry } from './record-table.js';
import type { VersionQueue } from './version-queue.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CORE_CREATED, CORE_DELETED, CORE_LABEL, CORE_WIDTH } = layout;

export interface VertexProp {
  readonly spec: PropertySpec;
  readonly column: PageColumn;
}

export interface VertexLabel {
  readonly id: number;
  readonly name: string;
  readonly props: Map<string, VertexProp>;
}

export class VertexTable {
  readonly core: PageColumn;
  readonly labels: VertexLabel[] = [];
  readonly labelIds = new Map<string, number>();
  /**
   * Writer-side existence, a bit per local id (set: alive in the open epoch). A bit, not a
   * byte: a bulk apply tests every edge's endpoints at random, and at 1M local ids the bits
   * (128 KB) stay in cache where bytes (1 MB) missed.
   */
  private alive = new Int32Array(32);
  aliveCount = 0;
  private readonly pagePool: BlockPool;

  constructor(
    private readonly arena: Arena,
    private readonly registry: TableRegistry,
    readonly blobs: BlobStore,
    /** Called when a label or property column is created (the schema must be republished). */
    private readonly onSchemaChange: (label: string) => void,
  ) {
    this.pagePool = arena.newPool(4096, 1 << 20);
    this.core = new PageColumn(registry.create(), arena, this.pagePool, CORE_WIDTH, 'u32');
  }

  ensure(n: number): void {
    if (n <= this.alive.length * 32) return;
    let cap = this.alive.length;
    while (cap * 32 < n) cap *= 2;
    const a = new Int32Array(cap);
    a.set(this.alive);
    this.alive = a;
  }

  isAlive(lid: number): boolean {
    const w = lid >>> 5;
    return w < this.alive.length && (this.alive[w] & (1 << (lid & 31))) !== 0;
  }

  labelId(name: string): number {
    let id = this.labelIds.get(name);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push({ id, name, props: new Map() });
      this.labelIds.set(name, id);
      this.onSchemaChange(name);
    }
    return id;
  }

  addProp(labelId: number, spec: PropertySpec): void {
    const l = this.labels[labelId];
    if (l.props.has(spec.name)) return;
    const f64 = spec.type === 'float64';
    const column = new PageColumn(
      this.registry.create(),
      this.arena,
      this.pagePool,
      f64 ? 2 : 1,
      f64 ? 'f64' : 'u32',
    );
    l.props.set(spec.name, { spec, column });
    this.onSchemaChange(l.name);
  }

  /** The label id of an alive vertex, as the writer sees it. */
  labelOf(lid: number): number {
    const slot = this.core.writerSlot(lid);
    return slot === 0 ? -1 : this.arena.views.word(slot + CORE_LABEL) - 1;
  }

  create(lid: number, labelId: number, epoch: number, pub: number, createdEpoch = epoch): void {
    const slot = this.core.writable(lid, epoch, pub);
    const v = this.arena.views;
    v.setWord(slot + CORE_LABEL, labelId + 1);
    v.setWord(slot + CORE_CREATED, createdEpoch);
    v.setWord(slot + CORE_DELETED, 0);
    this.alive[lid >>> 5] |= 1 << (lid & 31);
    this.aliveCount++;
  }

  setLabel(lid: number, labelId: number, epoch: number, pub: number): void {
    const slot = this.core.writable(lid, epoch, pub);
    this.arena.views.setWord(slot + CORE_LABEL, labelId + 1);
  }

  delete(lid: number, epoch: number, pub: number): void {
    this.clearProps(lid, this.labelOf(lid), epoch, pub);
    const slot = this.core.writable(lid, epoch, pub);
    const v = this.arena.views;
    v.setWord(slot + CORE_LABEL, 0);
    v.setWord(slot + CORE_DELETED, epoch);
    this.alive[lid >>> 5] &= ~(1 << (lid & 31));
    this.aliveCount--;
  }

  /** Remove every property value of a vertex under `labelId`. */
  clearProps(lid: number, labelId: number, epoch: number, pub: number): void {
    if (labelId < 0) return;
    for (const p of this.labels[labelId].props.values()) {
      if (this.present(p, lid)) this.writeValue(p, lid, undefined, epoch, pub);
    }
  }

  /**
   * Replace a vertex's properties: given ones set, all others of its label cleared.
   * Returns whether anything was written (an identical upsert writes nothing).
   */
  replaceProps(lid: number, labelId: number, props: Props | undefined, epoch: number, pub: number): boolean {
    const label = this.labels[labelId];
    let wrote = false;
    for (const p of label.props.values()) {
      const value = props?.[p.spec.name];
      if (value === undefined) {
        if (this.present(p, lid)) {
          this.writeValue(p, lid, undefined, epoch, pub);
          wrote = true;
        }
      } else if (!this.equalsValue(p, lid, value)) {
        this.writeValue(p, lid, value, epoch, pub);
        wrote = true;
      }
    }
    return wrote;
  }

  private present(p: VertexProp, lid: number): boolean {
    const slot = p.column.writerSlot(lid);
    if (slot === 0) return false;
    const v = this.arena.views;
    if (p.column.kind === 'f64')
      return !Number.isNaN(v.f64[slot >>> v.chunkBits][(slot & v.chunkMask) >>> 1]);
    return v.word(slot) !== 0;
  }

  private equalsValue(p: VertexProp, lid: number, value: PropValue): boolean {
    const slot = p.column.writerSlot(lid);
    if (slot === 0) return false;
    const v = this.arena.views;
    switch (p.spec.type) {
      case 'float64':
        return v.f64[slot >>> v.chunkBits][(slot & v.chunkMask) >>> 1] === value;
      case 'bool':
        return v.word(slot) === (value === true ? 2 : 1);
      default:
        return false; // strings and vectors: rewrite (cheap relative to comparing blobs)
    }
  }

  /** Write (or clear, when value is undefined) one property of a vertex in the open epoch. */
  writeValue(p: VertexProp, lid: number, value: PropValue | undefined, epoch: number, pub: number): void {
    const slot = p.column.writable(lid, epoch, pub);
    const v = this.arena.views;
    switch (p.spec.type) {
      case 'float64':
        v.f64[slot >>> v.chunkBits][(slot & v.chunkMask) >>> 1] =
          value === undefined ? Number.NaN : (value as number);
        return;
      case 'bool':
        v.setWord(slot, value === undefined ? 0 : value === true ? 2 : 1);
        return;
      default: {
        const isString = p.spec.type === 'string';
        const old = v.word(slot);
        if (old !== 0) this.blobs.retire(old, isString, epoch, pub);
        let ref = 0;
        if (value !== undefined) {
          ref = isString
            ? this.blobs.putString(value as string)
            : this.blobs.putVector(value as ArrayLike<number>);
        }
        // Re-read the views: a blob allocation may have grown the arena.
        this.arena.views.setWord(slot, ref);
      }
    }
  }

  seal(epoch: number, versions: VersionQueue): number {
    let n = this.core.seal(epoch, versions);
    for (const l of this.labels) for (const p of l.props.values()) n += p.column.seal(epoch, versions);
    return n;
  }

  hasDirty(): boolean {
    if (this.core.table.dirtyItems > 0) return true;
    for (const l of this.labels)
      for (const p of l.props.values()) if (p.column.table.dirtyItems > 0) return true;
    return false;
  }

  bytes(): number {
    let n = this.core.table.bytes() + this.alive.byteLength;
    for (const l of this.labels) for (const p of l.props.values()) n += p.column.table.bytes();
    return n + this.pagePool.liveWords * 4 + this.blobs.bytes();
  }
}
