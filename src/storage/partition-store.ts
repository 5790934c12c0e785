/**
 * The writer of one partition: applies validated batches to the open epoch, seals epochs,
 * advances retention and compacts. Exactly one thread owns a PartitionStore; readers in any
 * thread use PartitionReader over its descriptor.
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import type { Batch } from '../model/ops.js';
import type { PropertySpec, PropValue, SchemaView } from '../model/schema.js';
import { type ApplyResult, applyBatch } from './batch-apply.js';
import { CompactionSchedule, type LoadCompaction } from './compaction-schedule.js';
import type { StoreLimits } from './layout.js';
import * as layout from './layout.js';
import type { LidMark } from './lid-mark.js';
import type { PublishedSchema } from './published-schema.js';
import { scanReaders } from './reader-registry.js';
import type { StoreDescriptor } from './shared-pool.js';
import { resolveLimits } from './shared-pool.js';
import { StoreCore } from './store-core.js';
import * as restore from './store-restore.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CTL_LIDS, CTL_OLDEST, CTL_PUBLISHED, CTL_SCHEMA_PTR, CTL_SEALS, NODE_WORDS } = layout;

export type { ApplyResult } from './batch-apply.js';
export type { LoadCompaction } from './compaction-schedule.js';

export interface PartitionStoreOptions {
  partition?: number;
  partitions?: number;
  /** The epoch at which the initial (empty) state is published. */
  initialEpoch?: number;
  limits?: Partial<StoreLimits>;
}

export interface EpochMeta {
  readonly epoch: number;
  readonly sealedAtMs: number;
  readonly vertices: number;
  readonly edges: number;
  /** Local ids assigned as of this epoch (for checkpoints). */
  readonly lids: number;
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
  adjacency: {
    blockBytes: number;
    extentBytes: number;
    recordBytes: number;
    bloomBytes: number;
    /** Block capacity holding no entry (compaction trims it). */
    slackBytes: number;
  };
  stampBytes: number;
  nodeBytes: number;
  vertexTableBytes: number;
  arenaGrownBytes: number;
  arenaFreeBytes: number;
  retiredPending: number;
  versionsPending: number;
}

export class PartitionStore {
  private readonly core: StoreCore;
  private schemaPtr = 0;
  private readonly compaction: CompactionSchedule;
  /** Where id allocation stood at the last seal: ids assigned since are born in the open epoch. */
  private idsAtSeal: LidMark;
  /** The epoch up to which the last retain could free versions (readers included). */
  private reclaimFloor = 0;
  /** Metadata of sealed epochs still retained (oldest first). */
  readonly epochs: EpochMeta[] = [];

  static create(opts: PartitionStoreOptions = {}): PartitionStore {
    return new PartitionStore(opts);
  }

  private constructor(opts: PartitionStoreOptions) {
    const limits = resolveLimits(opts.limits);
    const partitions = opts.partitions ?? 1;
    const partition = opts.partition ?? 0;
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new EpochgraphError('INVALID_REQUEST', 'partitions must be ≥ 1');
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new EpochgraphError('INVALID_REQUEST', `partition must be in [0, ${partitions})`);
    }
    const initial = opts.initialEpoch ?? 0;
    if (!Number.isSafeInteger(initial) || initial < 0 || initial >= 0xfffffffe) {
      throw new EpochgraphError('INVALID_REQUEST', 'initialEpoch must be a 32-bit epoch number');
    }
    const core = new StoreCore(partition, partitions, limits);
    this.core = core;
    this.compaction = new CompactionSchedule(core);
    this.idsAtSeal = core.ids.mark();
    core.pub = initial;
    core.open = initial + 1;
    core.ctl[CTL_OLDEST] = initial;
    this.publishSchema();
    // Release: the empty state is complete before the first epoch number is visible.
    Atomics.store(core.ctl, CTL_PUBLISHED, initial);
    this.epochs.push({ epoch: initial, sealedAtMs: Date.now(), vertices: 0, edges: 0, lids: 0 });
  }

  get descriptor(): StoreDescriptor {
    return this.core.descriptor;
  }
  get partition(): number {
    return this.core.partition;
  }
  get partitions(): number {
    return this.core.partitions;
  }
  /** The newest sealed epoch. */
  get published(): number {
    return this.core.pub;
  }
  /** The epoch the next seal will publish (unless seal is given a later one). */
  get openEpoch(): number {
    return this.core.open;
  }
  /** Whether anything changed since the last seal. */
  get hasChanges(): boolean {
    return this.core.changed;
  }
  get vertexCount(): number {
    return this.core.vertices.aliveCount;
  }
  get edgeTotal(): number {
    return this.core.edgeCount;
  }
  /** Local ids assigned so far (owned vertices and remote endpoints). */
  get localIds(): number {
    return this.core.ids.count;
  }
  get oldestRetained(): number {
    return Atomics.load(this.core.ctl, CTL_OLDEST);
  }

  owns(id: ExternalId): boolean {
    return this.core.owns(id);
  }

  schemaView(): SchemaView {
    return this.core.schema.view();
  }

  /**
   * Apply a decoded batch to the open epoch. The whole batch is checked against the schema
   * first; on a conflict nothing is applied.
   */
  apply(batch: Batch): ApplyResult {
    return applyBatch(this.core, batch);
  }

  /**
   * Number the open epoch `epoch` (> published) before anything is applied to it: recovery
   * replays logged epochs under their own numbers, which may skip.
   */
  beginEpoch(epoch: number): void {
    const core = this.core;
    if (core.changed) throw new EpochgraphError('INTERNAL', 'beginEpoch with changes pending');
    if (!Number.isSafeInteger(epoch) || epoch <= core.pub || epoch >= 0xfffffffe) {
      throw new EpochgraphError('INTERNAL', `cannot open epoch ${epoch} after ${core.pub}`);
    }
    core.open = epoch;
  }

  /**
   * Publish the open epoch: every changed record gets its new version, then the epoch number
   * is stored with Atomics.store (release), so a reader that loads it sees all of it. Costs
   * O(changed records). `epoch` may skip ahead (all partitions of a machine seal the same
   * numbers; recovery continues numbering); it must be above the published epoch.
   */
  seal(nowMs: number = Date.now(), epoch?: number): SealInfo {
    const core = this.core;
    const t0 = performance.now();
    const O = epoch ?? core.open;
    if (!Number.isSafeInteger(O) || O <= core.pub || O >= 0xfffffffe) {
      throw new EpochgraphError('INTERNAL', `cannot seal epoch ${O} after ${core.pub}`);
    }
    // Changes were stamped with core.open: renumbering them would misdate them.
    if (O !== core.open && core.changed) {
      throw new EpochgraphError('INTERNAL', `cannot renumber open epoch ${core.open} with changes to ${O}`);
    }
    let changedRecords = 0;
    // Local ids assigned since the last seal belong to vertices created in this epoch.
    const born = this.idsAtSeal;
    for (const L of core.edgeLabels) {
      changedRecords += L.out.seal(O, core.versions, born);
      changedRecords += L.in.seal(O, core.versions, born);
    }
    changedRecords += core.vertices.seal(O, core.versions);
    if (core.schemaDirty) this.publishSchema();
    Atomics.store(core.ctl, CTL_LIDS, core.ids.bound);
    // Release: every record, node, block and schema byte of epoch O is written above; a
    // reader that loads PUBLISHED >= O (acquire) sees all of it.
    Atomics.store(core.ctl, CTL_PUBLISHED, O);
    Atomics.add(core.ctl, CTL_SEALS, 1);
    core.pub = O;
    core.open = O + 1;
    core.changed = false;
    this.idsAtSeal = core.ids.mark();
    const meta: EpochMeta = {
      epoch: O,
      sealedAtMs: nowMs,
      vertices: core.vertices.aliveCount,
      edges: core.edgeCount,
      lids: core.ids.bound,
    };
    this.epochs.push(meta);
    return { ...meta, changedRecords, durationMs: performance.now() - t0 };
  }

  private publishSchema(): void {
    const core = this.core;
    const ps: PublishedSchema = {
      core: core.vertices.core.table.id,
      vertexLabels: core.vertices.labels.map((l) => ({
        name: l.name,
        props: [...l.props.values()].map((p) => ({ ...p.spec, table: p.column.table.id })),
      })),
      edgeLabels: core.edgeLabels.map((L) => ({
        name: L.name,
        out: L.out.table.id,
        in: L.in.table.id,
        props: L.propList.map((p) => ({ ...p.spec, ecol: p.column.ecol, kind: p.column.kind })),
      })),
    };
    const addr = core.blobs.putString(JSON.stringify(ps));
    const old = this.schemaPtr;
    this.schemaPtr = addr;
    // Release: the schema blob is complete before readers can load its address.
    Atomics.store(core.ctl, CTL_SCHEMA_PTR, addr);
    if (old !== 0) core.blobs.retire(old, true, 0, core.pub);
    core.schemaDirty = false;
  }

  /**
   * Advance the oldest retained epoch (never backwards, never past the published epoch) and
   * free what no reader can reach any more: all of it, or about `budget` versions when given
   * (then `reclaimBehind` says whether more is due, and `reclaim` goes on). Returns the number
   * of items freed.
   */
  retain(oldest: number, budget = Number.POSITIVE_INFINITY): number {
    const core = this.core;
    const cur = Atomics.load(core.ctl, CTL_OLDEST);
    const floor = Math.min(Math.max(oldest, cur), core.pub);
    // Seq-cst store, then the registry scan: the writer half of the handshake in
    // reader-registry.ts. A reader that registered before this store is seen by the scan.
    Atomics.store(core.ctl, CTL_OLDEST, floor);
    const readers = scanReaders(core.ctl);
    const effective = Math.min(floor, readers.minSnap);
    this.reclaimFloor = effective;
    let n = core.versions.drain(effective, core.registry.tables, core.pub, budget);
    n += core.arena.reclaim(effective, readers.minStart);
    while (this.epochs.length > 1 && this.epochs[0].epoch < floor) this.epochs.shift();
    return n;
  }

  /**
   * Go on freeing what the last retain left for later (at most about `budget` versions), at
   * the same oldest retained epoch. Returns the number of items freed.
   */
  reclaim(budget: number): number {
    return this.retain(0, budget);
  }

  /**
   * Whether versions that no reader can reach are still waiting to be freed (a retain or
   * reclaim with a budget stopped short of them).
   */
  get reclaimBehind(): boolean {
    return this.core.versions.oldestEpoch() <= this.reclaimFloor;
  }

  /**
   * Compact fragmented vertex ranges in the open epoch, up to about `budget` entries, with
   * the policy under a write load that compaction-schedule.ts describes. Returns the entries
   * rewritten. The result becomes visible at the next seal.
   */
  compact(budget = 1 << 20, underLoad: LoadCompaction | null = null): number {
    return this.compaction.step(budget, underLoad);
  }

  /** Compact every vertex range of every store (benchmarks, checkpoints). */
  compactAll(): number {
    return this.compaction.all();
  }

  /** Live adjacency entries in vertex ranges that would benefit from compaction. */
  uncompactedEntries(): number {
    return this.compaction.uncompactedEntries();
  }

  /** Whether some vertex range would benefit from compaction. */
  needsCompaction(): boolean {
    return this.compaction.needed();
  }

  stats(): StoreStats {
    const core = this.core;
    const adjacency = { blockBytes: 0, extentBytes: 0, recordBytes: 0, bloomBytes: 0, slackBytes: 0 };
    for (const L of core.edgeLabels) {
      for (const s of [L.out, L.in]) {
        const b = s.bytes();
        adjacency.blockBytes += b.blocks;
        adjacency.extentBytes += b.extents;
        adjacency.recordBytes += b.records;
        adjacency.bloomBytes += b.blooms;
        adjacency.slackBytes += s.slackWords() * 4;
      }
    }
    const idb = core.ids.bytes();
    return {
      vertices: core.vertices.aliveCount,
      edges: core.edgeCount,
      localIds: core.ids.count,
      idIndexBytes: idb.index,
      externalKeyBytes: idb.keys,
      adjacency,
      stampBytes: core.stampPool.liveWords * 4,
      nodeBytes: core.arena.nodes.live * NODE_WORDS * 4,
      vertexTableBytes: core.vertices.bytes(),
      arenaGrownBytes: core.arena.grownWords() * 4,
      arenaFreeBytes: core.arena.freeExtentWords() * 4,
      retiredPending: core.arena.retired.length + core.arena.retiredGrace.length,
      versionsPending: core.versions.length,
    };
  }

  // -- restore from a checkpoint (checkpoint-restore.ts) -------------------------------------

  restoreSchema(vertexLabels: restore.RestoreLabel[], edgeLabels: restore.RestoreLabel[]): void {
    restore.restoreSchema(this.core, vertexLabels, edgeLabels);
  }
  restoreKey(id: ExternalId, lid: number): void {
    restore.restoreKey(this.core, id, lid);
  }
  finishKeys(): void {
    this.core.ids.finishRestore();
  }
  restoreVertices(lids: Uint32Array, labels: Uint32Array, created: Uint32Array): void {
    restore.restoreVertices(this.core, lids, labels, created);
  }
  restoreVertexProps(
    label: string,
    prop: string,
    lids: Uint32Array,
    value: (spec: PropertySpec, i: number) => PropValue | undefined,
  ): void {
    restore.restoreVertexProps(this.core, label, prop, lids, value);
  }
  restoreRows(
    label: string,
    dir: 'out' | 'in',
    rows: Uint32Array,
    counts: Uint32Array,
    nbrs: Uint32Array,
  ): Uint32Array {
    return restore.restoreRows(this.core, label, dir, rows, counts, nbrs);
  }
  restoreEdgeProps(
    label: string,
    prop: string,
    addrs: Uint32Array,
    value: (spec: PropertySpec, i: number) => PropValue | undefined,
  ): void {
    restore.restoreEdgeProps(this.core, label, prop, addrs, value);
  }
}
