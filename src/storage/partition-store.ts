/**
 * The writer of one partition: applies validated batches to the open epoch, seals epochs,
 * advances retention and compacts. Exactly one thread owns a PartitionStore; readers in any
 * thread use PartitionReader over its descriptor.
 *
 * Ownership: with P partitions, a vertex belongs to partitionOf(id, P). A partition stores
 * its vertices' out-edges (with their properties) and in-edges; the other endpoint of an edge
 * may be remote, and then has a local id here too (a "ghost": in the index, never alive).
 * Deleting a vertex deletes its incident edges here and returns, as cascades, the edge
 * deletions that other partitions must apply in the same epoch.
 */
import { EpochgraphError } from '../errors.js';
import { type ExternalId, partitionOf, utf8 } from '../model/ids.js';
import {
  type AppliedCounts,
  type Batch,
  type DeleteEdgeOp,
  type DeleteVertexOp,
  type EdgeColumns,
  emptyCounts,
  type UpsertVertexOp,
} from '../model/ops.js';
import {
  DEFAULT_EDGE_LABEL,
  DEFAULT_VERTEX_LABEL,
  type PropertySpec,
  type Props,
  type PropValue,
  SchemaModel,
  type SchemaView,
} from '../model/schema.js';
import { AdjacencyStore } from './adjacency.js';
import { Arena, type BlockPool } from './arena-allocator.js';
import { BlobStore, readString, readVector } from './columns.js';
import { EdgeColumn } from './edge-columns.js';
import { IdIndex } from './id-index.js';
import {
  CTL_OLDEST,
  CTL_PUBLISHED,
  CTL_SCHEMA_PTR,
  CTL_SEALS,
  columnBase,
  ECOL_MAX,
  type StoreLimits,
} from './layout.js';
import type { PublishedSchema } from './published-schema.js';
import { scanReaders } from './reader-registry.js';
import { TableRegistry, VersionQueue, W_COUNT, W_STRIDE } from './record-table.js';
import { ArenaViews, createDescriptor, resolveLimits, type StoreDescriptor } from './shared-pool.js';
import { VertexTable } from './vertex-table.js';

/** Edges per group in the bulk path's touch-then-work loops (a power of two). */
const BULK_GROUP = 128;

function isNumericColumn(c: ArrayLike<unknown>): boolean {
  return c instanceof Float64Array || c instanceof Uint32Array || c instanceof Int32Array;
}

export interface PartitionStoreOptions {
  partition?: number;
  partitions?: number;
  /** The epoch at which the initial (empty or restored) state is published. */
  initialEpoch?: number;
  limits?: Partial<StoreLimits>;
}

interface EdgeProp {
  readonly spec: PropertySpec;
  readonly column: EdgeColumn;
}

interface EdgeLabel {
  readonly id: number;
  readonly name: string;
  readonly out: AdjacencyStore;
  readonly in: AdjacencyStore;
  readonly props: Map<string, EdgeProp>;
  /** props in column order (the order of out.columns). */
  readonly propList: EdgeProp[];
}

export interface ApplyResult {
  applied: AppliedCounts;
  /** Edge deletions owed by other partitions (edges of deleted vertices). */
  cascades: DeleteEdgeOp[];
}

export interface EpochMeta {
  readonly epoch: number;
  readonly sealedAtMs: number;
  readonly vertices: number;
  readonly edges: number;
}

export interface SealInfo extends EpochMeta {
  readonly changedRecords: number;
  readonly durationMs: number;
}

export interface StoreStats {
  vertices: number;
  edges: number;
  localIds: number;
  idIndexBytes: number;
  externalKeyBytes: number;
  adjacency: { blockBytes: number; extentBytes: number; recordBytes: number; bloomBytes: number };
  stampBytes: number;
  nodeBytes: number;
  vertexTableBytes: number;
  arenaGrownBytes: number;
  arenaFreeBytes: number;
  retiredPending: number;
  versionsPending: number;
}

export class PartitionStore {
  readonly descriptor: StoreDescriptor;
  readonly partition: number;
  readonly partitions: number;
  readonly ids: IdIndex;
  readonly vertices: VertexTable;
  private readonly ctl: Uint32Array;
  private readonly arena: Arena;
  private readonly edgeLabels: EdgeLabel[] = [];
  private readonly edgeLabelIds = new Map<string, number>();
  private readonly schema = new SchemaModel();
  private readonly versions = new VersionQueue();
  private readonly registry: TableRegistry;
  private readonly stampPool: BlockPool;
  private readonly blobs: BlobStore;
  private nextEcol = 0;
  private nextSlot: number;
  private openEpochNo: number;
  private pub: number;
  private schemaDirty = true;
  private schemaPtr = 0;
  private changed = false;
  private compactCursor = 0;
  private edgeCount = 0;
  /** Local ids assigned as of the last seal (later ones are vertices born in the open epoch). */
  private lidsAtSeal = 0;
  /** Metadata of sealed epochs still retained (oldest first). */
  readonly epochs: EpochMeta[] = [];

  static create(opts: PartitionStoreOptions = {}): PartitionStore {
    return new PartitionStore(opts);
  }

  private constructor(opts: PartitionStoreOptions) {
    const limits = resolveLimits(opts.limits);
    this.partition = opts.partition ?? 0;
    this.partitions = opts.partitions ?? 1;
    if (!Number.isInteger(this.partitions) || this.partitions < 1)
      throw new EpochgraphError('INVALID_REQUEST', 'partitions must be ≥ 1');
    if (!Number.isInteger(this.partition) || this.partition < 0 || this.partition >= this.partitions) {
      throw new EpochgraphError('INVALID_REQUEST', `partition must be in [0, ${this.partitions})`);
    }
    this.descriptor = createDescriptor(this.partition, this.partitions, limits);
    this.ctl = new Uint32Array(this.descriptor.ctl);
    this.arena = new Arena(new ArenaViews(this.descriptor), this.ctl, limits.maxChunks);
    this.registry = new TableRegistry(this.arena, this.ctl);
    this.ids = new IdIndex(this.descriptor);
    this.stampPool = this.arena.newPool(4096, 1 << 18);
    this.blobs = new BlobStore(this.arena, this.arena.newPool(4096, 1 << 20));
    this.nextSlot = columnBase(limits);
    this.vertices = new VertexTable(this.arena, this.registry, this.blobs, (label) => {
      this.schema.ensureLabel('vertex', label);
      this.schemaDirty = true;
    });
    const initial = opts.initialEpoch ?? 0;
    this.pub = initial;
    this.openEpochNo = initial + 1;
    this.ctl[CTL_OLDEST] = initial;
    this.publishSchema();
    // Release: the empty state is complete before the first epoch number is visible.
    Atomics.store(this.ctl, CTL_PUBLISHED, initial);
    this.epochs.push({ epoch: initial, sealedAtMs: Date.now(), vertices: 0, edges: 0 });
  }

  /** The newest sealed epoch. */
  get published(): number {
    return this.pub;
  }

  /** The epoch the next seal will publish. */
  get openEpoch(): number {
    return this.openEpochNo;
  }

  /** Whether anything changed since the last seal. */
  get hasChanges(): boolean {
    return this.changed;
  }

  get vertexCount(): number {
    return this.vertices.aliveCount;
  }

  get edgeTotal(): number {
    return this.edgeCount;
  }

  owns(id: ExternalId): boolean {
    return this.partitions === 1 || partitionOf(id, this.partitions) === this.partition;
  }

  schemaView(): SchemaView {
    return this.schema.view();
  }

  // ---------------------------------------------------------------------------------------
  // Writes

  /**
   * Apply a decoded batch to the open epoch. The whole batch is checked against the schema
   * first; on a conflict nothing is applied. (Structural validation is decodeBatch's job.)
   */
  apply(batch: Batch): ApplyResult {
    this.validate(batch);
    const O = this.openEpochNo;
    const pub = this.pub;
    const counts = emptyCounts();
    const cascades: DeleteEdgeOp[] = [];
    for (const op of batch.ops) {
      switch (op.op) {
        case 'upsertVertex':
          this.upsertVertex(op, O, pub, counts);
          break;
        case 'deleteVertex':
          this.deleteVertex(op, O, pub, counts, cascades);
          break;
        case 'upsertEdge':
          this.upsertEdge(op.src, op.dst, op.label, op.props, O, pub, counts);
          break;
        case 'deleteEdge':
          this.deleteEdge(op, O, counts);
          break;
      }
    }
    if (batch.edges !== undefined) this.applyEdgeColumns(batch.edges, O, pub, counts);
    return { applied: counts, cascades };
  }

  private validate(batch: Batch): void {
    const pending = new SchemaModel();
    const pendingLabel = new Map<ExternalId, string>();
    for (let i = 0; i < batch.ops.length; i++) {
      const op = batch.ops[i];
      if (op.op === 'upsertVertex') {
        const label = op.label ?? pendingLabel.get(op.id) ?? this.currentLabel(op.id) ?? DEFAULT_VERTEX_LABEL;
        pendingLabel.set(op.id, label);
        this.schema.check('vertex', label, op.props, pending, `ops[${i}]`);
      } else if (op.op === 'upsertEdge') {
        this.schema.check('edge', op.label ?? DEFAULT_EDGE_LABEL, op.props, pending, `ops[${i}]`);
      } else if (op.op === 'deleteVertex') {
        // Re-created later in the batch, it starts over with the default label.
        pendingLabel.set(op.id, DEFAULT_VERTEX_LABEL);
      }
    }
    const e = batch.edges;
    if (e?.props !== undefined && e.src.length > 0) {
      const sample: Props = {};
      for (const [name, col] of Object.entries(e.props)) sample[name] = col[0];
      this.schema.check('edge', e.label ?? DEFAULT_EDGE_LABEL, sample, pending, 'edges');
    }
    if (this.schema.merge(pending)) this.schemaDirty = true;
    for (const [label, props] of pending.vertex) {
      const lid = this.vertices.labelId(label);
      for (const spec of props.values()) this.vertices.addProp(lid, spec);
    }
    for (const [label, props] of pending.edge) {
      const L = this.edgeLabel(label);
      for (const spec of props.values()) this.addEdgeProp(L, spec);
    }
  }

  private currentLabel(id: ExternalId): string | undefined {
    if (!this.owns(id)) return undefined;
    const lid = this.ids.views.lookup(id);
    if (lid < 0 || !this.vertices.isAlive(lid)) return undefined;
    return this.vertices.labels[this.vertices.labelOf(lid)]?.name;
  }

  private edgeLabel(name: string): EdgeLabel {
    const id = this.edgeLabelIds.get(name);
    if (id !== undefined) return this.edgeLabels[id];
    const lid = this.edgeLabels.length;
    const out = new AdjacencyStore(this.registry.create(), this.arena, this.stampPool, lid, 'out');
    const inn = new AdjacencyStore(this.registry.create(), this.arena, this.stampPool, lid, 'in');
    const L: EdgeLabel = { id: lid, name, out, in: inn, props: new Map(), propList: [] };
    this.edgeLabels.push(L);
    this.edgeLabelIds.set(name, lid);
    this.schema.ensureLabel('edge', name);
    this.schemaDirty = true;
    return L;
  }

  private addEdgeProp(L: EdgeLabel, spec: PropertySpec): void {
    if (L.props.has(spec.name)) return;
    if (this.nextEcol >= ECOL_MAX) {
      throw new EpochgraphError(
        'CAPACITY_EXCEEDED',
        `more than ${ECOL_MAX} edge property columns in one partition`,
      );
    }
    const kind = spec.type === 'float64' ? 'f64' : 'u32';
    const column = new EdgeColumn(this.nextEcol++, kind, this.descriptor, this.ctl, this.arena.views, this);
    const p: EdgeProp = { spec, column };
    L.props.set(spec.name, p);
    L.propList.push(p);
    L.out.columns.push(column);
    this.schemaDirty = true;
  }

  /** SlotSource for edge columns: hand out the next free pool slot. */
  takeSlot(): number {
    if (this.nextSlot >= this.descriptor.slots.length) {
      throw new EpochgraphError('CAPACITY_EXCEEDED', 'no free buffer slots for edge property columns');
    }
    return this.nextSlot++;
  }

  private ensureLid(lid: number): void {
    this.vertices.ensure(lid + 1);
  }

  private ensureStores(L: EdgeLabel, lid: number): void {
    if (lid >= L.out.table.capacity) L.out.ensureVertices(Math.max(lid + 1, this.ids.count));
    if (lid >= L.in.table.capacity) L.in.ensureVertices(Math.max(lid + 1, this.ids.count));
  }

  private upsertVertex(op: UpsertVertexOp, O: number, pub: number, counts: AppliedCounts): void {
    if (!this.owns(op.id)) return;
    const lid = this.ids.lookupOrInsert(op.id);
    this.ensureLid(lid);
    const vt = this.vertices;
    let labelId: number;
    if (!vt.isAlive(lid)) {
      labelId = vt.labelId(op.label ?? DEFAULT_VERTEX_LABEL);
      vt.create(lid, labelId, O, pub);
      this.changed = true;
    } else {
      const cur = vt.labelOf(lid);
      labelId = op.label === undefined ? cur : vt.labelId(op.label);
      if (labelId !== cur) {
        vt.clearProps(lid, cur, O, pub);
        vt.setLabel(lid, labelId, O, pub);
        this.changed = true;
      }
    }
    if (vt.replaceProps(lid, labelId, op.props, O, pub)) this.changed = true;
    counts.upsertedVertices++;
  }

  private deleteVertex(
    op: DeleteVertexOp,
    O: number,
    pub: number,
    counts: AppliedCounts,
    cascades: DeleteEdgeOp[],
  ): void {
    if (!this.owns(op.id)) return;
    const v = this.ids.views.lookup(op.id);
    if (v < 0 || !this.vertices.isAlive(v)) return;
    const ext = (lid: number) => this.ids.views.externalId(lid);
    for (const L of this.edgeLabels) {
      this.ensureStores(L, v);
      const outs: number[] = [];
      L.out.forEachLive(v, (t, addr) => outs.push(t, addr));
      for (let i = 0; i < outs.length; i += 2) {
        const t = outs[i];
        this.retireEdgeBlobs(L, outs[i + 1], O, pub);
        L.out.deleteEntry(v, outs[i + 1], O);
        this.edgeCount--;
        const tid = ext(t);
        if (this.owns(tid)) {
          const a = L.in.find(t, v);
          if (a !== 0) L.in.deleteEntry(t, a, O);
        } else cascades.push({ op: 'deleteEdge', src: op.id, dst: tid, label: L.name });
      }
      const ins: number[] = [];
      L.in.forEachLive(v, (u, addr) => ins.push(u, addr));
      for (let i = 0; i < ins.length; i += 2) {
        const u = ins[i];
        L.in.deleteEntry(v, ins[i + 1], O);
        const uid = ext(u);
        if (this.owns(uid)) {
          const a = L.out.find(u, v);
          if (a !== 0) {
            this.retireEdgeBlobs(L, a, O, pub);
            L.out.deleteEntry(u, a, O);
            this.edgeCount--;
          }
        } else cascades.push({ op: 'deleteEdge', src: uid, dst: op.id, label: L.name });
      }
    }
    this.vertices.delete(v, O, pub);
    this.changed = true;
    counts.deletedVertices++;
  }

  private upsertEdge(
    src: ExternalId,
    dst: ExternalId,
    label: string | undefined,
    props: Props | undefined,
    O: number,
    pub: number,
    counts: AppliedCounts,
  ): void {
    const ownS = this.owns(src);
    const ownD = this.owns(dst);
    if (!ownS && !ownD) return;
    const L = this.edgeLabel(label ?? DEFAULT_EDGE_LABEL);
    const s = this.ids.lookupOrInsert(src);
    const d = this.ids.lookupOrInsert(dst);
    this.ensureLid(Math.max(s, d));
    this.ensureStores(L, Math.max(s, d));
    const vt = this.vertices;
    if (ownS && !vt.isAlive(s)) vt.create(s, vt.labelId(DEFAULT_VERTEX_LABEL), O, pub);
    if (ownD && !vt.isAlive(d)) vt.create(d, vt.labelId(DEFAULT_VERTEX_LABEL), O, pub);
    let outAddr = 0;
    let exists: boolean;
    if (ownS && ownD) {
      // Check the shorter of out(s) and in(d).
      if (L.in.length(d) < L.out.length(s)) {
        exists = L.in.find(d, s) !== 0;
        if (exists) outAddr = L.out.find(s, d);
      } else {
        outAddr = L.out.find(s, d);
        exists = outAddr !== 0;
      }
    } else if (ownS) {
      outAddr = L.out.find(s, d);
      exists = outAddr !== 0;
    } else {
      exists = L.in.find(d, s) !== 0;
    }
    if (ownS) counts.upsertedEdges++;
    if (exists) {
      if (ownS && !this.sameEdgeProps(L, outAddr, props)) {
        // Replace: the old entry stays visible to older epochs; the new one carries the props.
        this.retireEdgeBlobs(L, outAddr, O, pub);
        L.out.deleteEntry(s, outAddr, O);
        const a = L.out.append(s, d, O, pub);
        this.writeEdgeProps(L, a, props);
        this.changed = true;
      }
      return;
    }
    if (ownS) {
      const a = L.out.append(s, d, O, pub);
      this.writeEdgeProps(L, a, props);
      this.edgeCount++;
    }
    if (ownD) L.in.append(d, s, O, pub);
    this.changed = true;
  }

  private deleteEdge(op: DeleteEdgeOp, O: number, counts: AppliedCounts): void {
    const lid = this.edgeLabelIds.get(op.label ?? DEFAULT_EDGE_LABEL);
    if (lid === undefined) return;
    const L = this.edgeLabels[lid];
    const s = this.ids.views.lookup(op.src);
    const d = this.ids.views.lookup(op.dst);
    if (s < 0 || d < 0) return;
    this.ensureStores(L, Math.max(s, d));
    if (this.owns(op.src)) {
      const a = L.out.find(s, d);
      if (a !== 0) {
        this.retireEdgeBlobs(L, a, O, this.pub);
        L.out.deleteEntry(s, a, O);
        this.edgeCount--;
        counts.deletedEdges++;
        this.changed = true;
      }
    }
    if (this.owns(op.dst)) {
      const a = L.in.find(d, s);
      if (a !== 0) {
        L.in.deleteEntry(d, a, O);
        this.changed = true;
      }
    }
  }

  /**
   * The columnar bulk form, in phases (DESIGN §11.4): map every id first, create missing
   * vertices, then process groups of edges with a tight loop that touches the writer records
   * and block tails before the real work, so their cache misses overlap.
   */
  private applyEdgeColumns(e: EdgeColumns, O: number, pub: number, counts: AppliedCounts): void {
    const n = e.src.length;
    if (n === 0) return;
    const L = this.edgeLabel(e.label ?? DEFAULT_EDGE_LABEL);
    const names = e.props === undefined ? [] : Object.keys(e.props);
    const cols = names.map((k) => (e.props as Record<string, ArrayLike<PropValue>>)[k]);
    const props = names.map((k) => L.props.get(k) as EdgeProp);
    // Phase 1: ids -> local ids, and ownership (bit 1: src here, bit 2: dst here).
    const sl = new Uint32Array(n);
    const dl = new Uint32Array(n);
    const own = new Uint8Array(n);
    const ids = this.ids;
    const P = this.partitions;
    const p = this.partition;
    const numeric = isNumericColumn(e.src) && isNumericColumn(e.dst);
    let touched = 0;
    for (let i = 0; i < n; i++) {
      if (numeric && (i & (BULK_GROUP - 1)) === 0) {
        const end = Math.min(n, i + BULK_GROUP);
        touched +=
          ids.touchInts(e.src as ArrayLike<number>, i, end) +
          ids.touchInts(e.dst as ArrayLike<number>, i, end);
      }
      const s = e.src[i];
      sl[i] = typeof s === 'number' ? ids.intId(s) : ids.stringId(utf8(s));
      const os = P === 1 || ids.lastHash % P === p ? 1 : 0;
      const d = e.dst[i];
      dl[i] = typeof d === 'number' ? ids.intId(d) : ids.stringId(utf8(d));
      const od = P === 1 || ids.lastHash % P === p ? 2 : 0;
      own[i] = os | od;
    }
    const top = ids.count - 1;
    this.ensureLid(top);
    this.ensureStores(L, top);
    // Phase 2: endpoints this partition owns must exist.
    const vt = this.vertices;
    const defaultLabel = vt.labelId(DEFAULT_VERTEX_LABEL);
    for (let i = 0; i < n; i++) {
      if ((own[i] & 1) !== 0 && !vt.isAlive(sl[i])) vt.create(sl[i], defaultLabel, O, pub);
      if ((own[i] & 2) !== 0 && !vt.isAlive(dl[i])) vt.create(dl[i], defaultLabel, O, pub);
    }
    // Phase 3: groups of edges.
    const out = L.out;
    const inn = L.in;
    const row: Props = {};
    let upserted = 0;
    for (let g = 0; g < n; g += BULK_GROUP) {
      const end = Math.min(n, g + BULK_GROUP);
      const ow = out.table.w;
      const iw = inn.table.w;
      // Touch: the writer records of both endpoints (independent loads, overlapped misses).
      for (let i = g; i < end; i++)
        touched += ow[sl[i] * W_STRIDE + W_COUNT] + iw[dl[i] * W_STRIDE + W_COUNT];
      // Touch: the tails of the blocks the appends will write.
      touched += out.touchTails(sl, g, end) + inn.touchTails(dl, g, end);
      for (let i = g; i < end; i++) {
        const s = sl[i];
        const d = dl[i];
        const o = own[i];
        let exists: boolean;
        if (o === 3) {
          exists = inn.length(d) < out.length(s) ? inn.find(d, s) !== 0 : out.find(s, d) !== 0;
        } else if (o === 1) exists = out.find(s, d) !== 0;
        else if (o === 2) exists = inn.find(d, s) !== 0;
        else continue;
        if ((o & 1) !== 0) upserted++;
        if (exists) {
          // Rare in bulk loads: replace the properties through the general path.
          for (let j = 0; j < names.length; j++) row[names[j]] = cols[j][i];
          this.replaceExistingEdge(L, s, d, o, names.length > 0 ? row : undefined, O, pub);
          continue;
        }
        if ((o & 1) !== 0) {
          const a = out.append(s, d, O, pub);
          for (let j = 0; j < props.length; j++) this.writeEdgeProp(props[j], a, cols[j][i]);
          for (const q of L.propList) if (!names.includes(q.spec.name)) q.column.clear(a);
          this.edgeCount++;
        }
        if ((o & 2) !== 0) inn.append(d, s, O, pub);
        this.changed = true;
      }
    }
    counts.upsertedEdges += upserted;
    if (touched < 0) throw new Error('unreachable'); // keeps the touch loads observable
  }

  /** An upsert of an edge that exists: replace its properties unless they are equal. */
  private replaceExistingEdge(
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
    if (this.sameEdgeProps(L, outAddr, props)) return;
    this.retireEdgeBlobs(L, outAddr, O, pub);
    L.out.deleteEntry(s, outAddr, O);
    const a = L.out.append(s, d, O, pub);
    this.writeEdgeProps(L, a, props);
    this.changed = true;
  }

  private writeEdgeProp(p: EdgeProp, addr: number, value: PropValue): void {
    const c = p.column;
    switch (p.spec.type) {
      case 'float64':
        c.setF64(addr, value as number);
        break;
      case 'bool':
        c.setU32(addr, value === true ? 2 : 1);
        break;
      case 'string':
        c.setU32(addr, this.blobs.putString(value as string));
        break;
      case 'vector':
        c.setU32(addr, this.blobs.putVector(value as ArrayLike<number>));
        break;
    }
  }

  private writeEdgeProps(L: EdgeLabel, addr: number, props: Props | undefined): void {
    for (const p of L.propList) {
      const value = props?.[p.spec.name];
      if (value === undefined) p.column.clear(addr);
      else this.writeEdgeProp(p, addr, value);
    }
  }

  private sameEdgeProps(L: EdgeLabel, addr: number, props: Props | undefined): boolean {
    const given = props === undefined ? 0 : Object.keys(props).length;
    let present = 0;
    for (const p of L.propList) {
      const value = props?.[p.spec.name];
      const c = p.column;
      switch (p.spec.type) {
        case 'float64': {
          const x = c.getF64(addr);
          if (Number.isNaN(x) ? value !== undefined : x !== value) return false;
          break;
        }
        case 'bool': {
          const x = c.getU32(addr);
          if (x === 0 ? value !== undefined : value !== (x === 2)) return false;
          break;
        }
        default: {
          const ref = c.getU32(addr);
          if (ref === 0 || value === undefined) {
            if (ref !== 0 || value !== undefined) return false;
            break;
          }
          if (p.spec.type === 'string') {
            if (readString(this.arena.views, ref) !== value) return false;
          } else {
            const cur = readVector(this.arena.views, ref);
            const arr = value as ArrayLike<number>;
            if (cur.length !== arr.length) return false;
            for (let i = 0; i < arr.length; i++) if (cur[i] !== Math.fround(arr[i])) return false;
          }
        }
      }
      if (value !== undefined) present++;
    }
    return present === given;
  }

  private retireEdgeBlobs(L: EdgeLabel, addr: number, O: number, pub: number): void {
    for (const p of L.propList) {
      if (p.spec.type !== 'string' && p.spec.type !== 'vector') continue;
      const ref = p.column.getU32(addr);
      if (ref !== 0) this.blobs.retire(ref, p.spec.type === 'string', O, pub);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Seal, retention, compaction

  /**
   * Publish the open epoch: every changed record gets its new version, then the epoch number
   * is stored with Atomics.store (release), so a reader that loads it sees all of it. Costs
   * O(changed records); call it even without changes to advance all partitions together.
   */
  seal(nowMs: number = Date.now()): SealInfo {
    const t0 = performance.now();
    const O = this.openEpochNo;
    let changedRecords = 0;
    // Local ids assigned since the last seal belong to vertices created in this epoch.
    const bornFrom = this.lidsAtSeal;
    for (const L of this.edgeLabels) {
      changedRecords += L.out.seal(O, this.versions, bornFrom);
      changedRecords += L.in.seal(O, this.versions, bornFrom);
    }
    changedRecords += this.vertices.seal(O, this.versions);
    if (this.schemaDirty) this.publishSchema();
    // Release: every record, node, block and schema byte of epoch O is written above; a
    // reader that loads PUBLISHED >= O (acquire) sees all of it.
    Atomics.store(this.ctl, CTL_PUBLISHED, O);
    Atomics.add(this.ctl, CTL_SEALS, 1);
    this.pub = O;
    this.openEpochNo = O + 1;
    this.changed = false;
    this.lidsAtSeal = this.ids.count;
    const meta: EpochMeta = {
      epoch: O,
      sealedAtMs: nowMs,
      vertices: this.vertices.aliveCount,
      edges: this.edgeCount,
    };
    this.epochs.push(meta);
    return { ...meta, changedRecords, durationMs: performance.now() - t0 };
  }

  private publishSchema(): void {
    const ps: PublishedSchema = {
      core: this.vertices.core.table.id,
      vertexLabels: this.vertices.labels.map((l) => ({
        name: l.name,
        props: [...l.props.values()].map((p) => ({ ...p.spec, table: p.column.table.id })),
      })),
      edgeLabels: this.edgeLabels.map((L) => ({
        name: L.name,
        out: L.out.table.id,
        in: L.in.table.id,
        props: L.propList.map((p) => ({ ...p.spec, ecol: p.column.ecol, kind: p.column.kind })),
      })),
    };
    const addr = this.blobs.putString(JSON.stringify(ps));
    const old = this.schemaPtr;
    this.schemaPtr = addr;
    // Release: the schema blob is complete before readers can load its address.
    Atomics.store(this.ctl, CTL_SCHEMA_PTR, addr);
    if (old !== 0) this.blobs.retire(old, true, 0, this.pub);
    this.schemaDirty = false;
  }

  /**
   * Advance the oldest retained epoch (never backwards, never past the published epoch) and
   * free what no reader can reach any more. Returns the number of items freed.
   */
  retain(oldest: number): number {
    const cur = Atomics.load(this.ctl, CTL_OLDEST);
    const floor = Math.min(Math.max(oldest, cur), this.pub);
    // Seq-cst store, then the registry scan: the writer half of the handshake in
    // reader-registry.ts. A reader that registered before this store is seen by the scan.
    Atomics.store(this.ctl, CTL_OLDEST, floor);
    const readers = scanReaders(this.ctl);
    const effective = Math.min(floor, readers.minSnap);
    let n = this.versions.drain(effective, this.registry.tables, this.pub);
    n += this.arena.reclaim(effective, readers.minStart);
    while (this.epochs.length > 1 && this.epochs[0].epoch < floor) this.epochs.shift();
    return n;
  }

  get oldestRetained(): number {
    return Atomics.load(this.ctl, CTL_OLDEST);
  }

  /**
   * Compact fragmented vertex ranges in the open epoch, up to about `budget` entries.
   * Returns the entries rewritten. The result becomes visible at the next seal.
   */
  compact(budget = 1 << 20): number {
    const stores: AdjacencyStore[] = [];
    for (const L of this.edgeLabels) stores.push(L.out, L.in);
    let total = 0;
    let ranges = 0;
    for (const s of stores) ranges = Math.max(ranges, s.rangeCount());
    const slots = ranges * stores.length;
    for (let step = 0; step < slots && total < budget; step++) {
      const k = this.compactCursor++ % Math.max(1, slots);
      const s = stores[k % stores.length];
      const r = Math.floor(k / stores.length);
      if (r < s.rangeCount() && s.rangeNeedsCompaction(r)) {
        total += s.compactRange(r, this.openEpochNo, this.pub) + 1;
        this.changed = true;
      }
    }
    return total;
  }

  /** Compact every vertex range of every store (benchmarks, checkpoints). */
  compactAll(): number {
    let total = 0;
    for (const L of this.edgeLabels) {
      for (const s of [L.out, L.in]) {
        for (let r = 0; r < s.rangeCount(); r++) total += s.compactRange(r, this.openEpochNo, this.pub);
      }
    }
    if (total > 0) this.changed = true;
    return total;
  }

  stats(): StoreStats {
    const adjacency = { blockBytes: 0, extentBytes: 0, recordBytes: 0, bloomBytes: 0 };
    for (const L of this.edgeLabels) {
      for (const s of [L.out, L.in]) {
        const b = s.bytes();
        adjacency.blockBytes += b.blocks;
        adjacency.extentBytes += b.extents;
        adjacency.recordBytes += b.records;
        adjacency.bloomBytes += b.blooms;
      }
    }
    const idb = this.ids.bytes();
    return {
      vertices: this.vertices.aliveCount,
      edges: this.edgeCount,
      localIds: this.ids.count,
      idIndexBytes: idb.index,
      externalKeyBytes: idb.keys,
      adjacency,
      stampBytes: this.stampPool.liveWords * 4,
      nodeBytes: this.arena.nodes.live * 5 * 4,
      vertexTableBytes: this.vertices.bytes(),
      arenaGrownBytes: this.arena.grownWords() * 4,
      arenaFreeBytes: this.arena.freeExtentWords() * 4,
      retiredPending: this.arena.retired.length + this.arena.retiredGrace.length,
      versionsPending: this.versions.length,
    };
  }
}
