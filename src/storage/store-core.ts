/**
 * The writer-side state of one partition, shared by the batch applier, the restorer and the
 * PartitionStore facade: buffers, id index, vertex table, edge labels with their adjacency
 * stores and property columns, and the schema. Nothing here is visible to readers except
 * through what the seal publishes.
 */
import { EpochgraphError } from '../errors.js';
import { type ExternalId, partitionOf } from '../model/ids.js';
import { type PropertySpec, type Props, type PropValue, SchemaModel } from '../model/schema.js';
import { AdjacencyStore } from './adjacency.js';
import { Arena, type BlockPool } from './arena-allocator.js';
import { BlobStore, readString, readVector } from './columns.js';
import { EdgeColumn } from './edge-columns.js';
import { IdIndex } from './id-index.js';
import * as layout from './layout.js';
import { columnBase, type StoreLimits } from './layout.js';
import { TableRegistry } from './record-table.js';
import { ArenaViews, createDescriptor, type StoreDescriptor } from './shared-pool.js';
import { VersionQueue } from './version-queue.js';
import { VertexTable } from './vertex-table.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { ECOL_MAX } = layout;

export interface EdgeProp {
  readonly spec: PropertySpec;
  readonly column: EdgeColumn;
}

export interface EdgeLabel {
  readonly id: number;
  readonly name: string;
  readonly out: AdjacencyStore;
  readonly in: AdjacencyStore;
  readonly props: Map<string, EdgeProp>;
  /** props in column order (the order of out.columns). */
  readonly propList: EdgeProp[];
}

export class StoreCore {
  readonly descriptor: StoreDescriptor;
  readonly ctl: Uint32Array;
  readonly arena: Arena;
  readonly registry: TableRegistry;
  readonly ids: IdIndex;
  readonly vertices: VertexTable;
  readonly edgeLabels: EdgeLabel[] = [];
  readonly edgeLabelIds = new Map<string, number>();
  readonly schema = new SchemaModel();
  readonly versions = new VersionQueue();
  readonly stampPool: BlockPool;
  readonly blobs: BlobStore;
  /** The open epoch and the newest sealed epoch. */
  open = 1;
  pub = 0;
  schemaDirty = true;
  /** Whether anything changed since the last seal. */
  changed = false;
  edgeCount = 0;
  private nextEcol = 0;
  private nextSlot: number;

  constructor(
    readonly partition: number,
    readonly partitions: number,
    limits: StoreLimits,
  ) {
    this.descriptor = createDescriptor(partition, partitions, limits);
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
  }

  owns(id: ExternalId): boolean {
    return this.partitions === 1 || partitionOf(id, this.partitions) === this.partition;
  }

  /** The label of an owned, alive vertex (writer view), or undefined. */
  currentLabel(id: ExternalId): string | undefined {
    if (!this.owns(id)) return undefined;
    const lid = this.ids.views.lookup(id);
    if (lid < 0 || !this.vertices.isAlive(lid)) return undefined;
    return this.vertices.labels[this.vertices.labelOf(lid)]?.name;
  }

  edgeLabel(name: string): EdgeLabel {
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

  addEdgeProp(L: EdgeLabel, spec: PropertySpec): void {
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

  ensureLid(lid: number): void {
    this.vertices.ensure(lid + 1);
  }

  ensureStores(L: EdgeLabel, lid: number): void {
    if (lid >= L.out.table.capacity) L.out.ensureVertices(Math.max(lid + 1, this.ids.bound));
    if (lid >= L.in.table.capacity) L.in.ensureVertices(Math.max(lid + 1, this.ids.bound));
  }

  writeEdgeProp(p: EdgeProp, addr: number, value: PropValue): void {
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

  writeEdgeProps(L: EdgeLabel, addr: number, props: Props | undefined): void {
    for (const p of L.propList) {
      const value = props?.[p.spec.name];
      if (value === undefined) p.column.clear(addr);
      else this.writeEdgeProp(p, addr, value);
    }
  }

  /** Whether the entry at addr carries exactly these properties. */
  sameEdgeProps(L: EdgeLabel, addr: number, props: Props | undefined): boolean {
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

  /** The entry at addr is being deleted in epoch O: its string/vector values go too. */
  retireEdgeBlobs(L: EdgeLabel, addr: number, O: number, pub: number): void {
    for (const p of L.propList) {
      if (p.spec.type !== 'string' && p.spec.type !== 'vector') continue;
      const ref = p.column.getU32(addr);
      if (ref !== 0) this.blobs.retire(ref, p.spec.type === 'string', O, pub);
    }
  }
}
