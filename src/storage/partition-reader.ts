/**
 * Readers: any thread builds a PartitionReader from a partition's descriptor (postable: shared
 * buffers, no copy) and opens snapshots at any retained epoch. The reader keeps the typed-array
 * views over the partition's growable buffers (recreated after a grow) and the newest
 * published schema; each open snapshot registers in the reader registry (snapshot.ts).
 */
import { threadId } from 'node:worker_threads';
import { ColumnReader, readString } from './columns.js';
import { IdIndexViews } from './id-index-views.js';
import * as layout from './layout.js';
import { type PublishedSchema, parsePublishedSchema } from './published-schema.js';
import { beginRead, endRead } from './reader-registry.js';
import { ArenaViews, ColumnChunkViews, checkDescriptor, type StoreDescriptor } from './shared-pool.js';
import { Snapshot } from './snapshot.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const { CORE_WIDTH, CTL_OLDEST, CTL_PUBLISHED, CTL_SCHEMA_PTR } = layout;

export class PartitionReader {
  readonly descriptor: StoreDescriptor;
  readonly ctl: Uint32Array;
  readonly arena: ArenaViews;
  readonly ids: IdIndexViews;
  private schemaPtr = 0;
  private schemaCache: PublishedSchema | null = null;
  private readonly edgeColumns = new Map<number, ColumnChunkViews>();
  private readonly columnReaders = new Map<number, ColumnReader>();
  private coreReader: ColumnReader | null = null;

  constructor(
    desc: StoreDescriptor | unknown,
    readonly owner: number = threadId,
  ) {
    this.descriptor = checkDescriptor(desc);
    this.ctl = new Uint32Array(this.descriptor.ctl);
    this.arena = new ArenaViews(this.descriptor);
    this.ids = new IdIndexViews(this.descriptor);
  }

  get partition(): number {
    return this.descriptor.partition;
  }

  /** The newest sealed epoch (acquire). */
  get published(): number {
    return Atomics.load(this.ctl, CTL_PUBLISHED);
  }

  get oldest(): number {
    return Atomics.load(this.ctl, CTL_OLDEST);
  }

  /** Open a snapshot at `epoch` (default: the latest). Throws EPOCH_GONE / EPOCH_NOT_FOUND. */
  open(epoch?: number): Snapshot {
    const { slot, epoch: e } = beginRead(this.ctl, epoch, this.owner);
    try {
      this.refresh();
      return new Snapshot(this, e, slot);
    } catch (err) {
      endRead(this.ctl, slot);
      throw err;
    }
  }

  /** Run fn on a snapshot and close it afterwards. */
  read<T>(epoch: number | undefined, fn: (s: Snapshot) => T): T {
    const s = this.open(epoch);
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }

  /** Recreate views over grown buffers and reload the schema if it changed. */
  refresh(): void {
    this.arena.refresh();
    this.ids.refresh();
    const ptr = Atomics.load(this.ctl, CTL_SCHEMA_PTR);
    if (ptr !== this.schemaPtr) {
      this.schemaCache = parsePublishedSchema(readString(this.arena, ptr));
      this.schemaPtr = ptr;
      this.coreReader = new ColumnReader(this.arena, this.ctl, this.schemaCache.core, CORE_WIDTH);
    }
    for (const c of this.edgeColumns.values()) c.refresh();
  }

  /** The newest published schema (reloaded, with the views, when a seal published a newer one). */
  get schema(): PublishedSchema {
    if (this.schemaCache === null || Atomics.load(this.ctl, CTL_SCHEMA_PTR) !== this.schemaPtr)
      this.refresh();
    return this.schemaCache as PublishedSchema;
  }

  core(): ColumnReader {
    if (this.coreReader === null) this.refresh();
    return this.coreReader as ColumnReader;
  }

  columnReader(table: number, width: number): ColumnReader {
    let r = this.columnReaders.get(table);
    if (r === undefined) {
      r = new ColumnReader(this.arena, this.ctl, table, width);
      this.columnReaders.set(table, r);
    }
    return r;
  }

  edgeColumn(ecol: number): ColumnChunkViews {
    let c = this.edgeColumns.get(ecol);
    if (c === undefined) {
      c = new ColumnChunkViews(this.descriptor, this.ctl, ecol);
      this.edgeColumns.set(ecol, c);
    }
    return c;
  }
}
