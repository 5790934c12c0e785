/**
 * A machine: the partition workers of one daemon, driven from the main thread.
 *
 * - Writes: batches are posted in submission order under a send lock (batch-poster.ts
 *   checks, splits and posts each one into the open epoch), and every worker handles its
 *   messages in order, so all partitions see batches in one order; a batch with deleteVertex
 *   holds the lock across its segments so its cascades land before anything else.
 * - The epoch clock (epoch-clock.ts) ticks every epochMs and seals the open epoch on every
 *   partition; an epoch becomes visible, and its batches are acknowledged, once every partition
 *   has sealed it durably. Visibility is in order.
 * - Reads: snapshots of all partitions at one visible epoch (GraphSnapshot).
 * - Retention: the ledger's floor (time window and pins) is sent to every worker.
 * - Backpressure: at most maxQueuedBatches batches wait; more wait for a slot, up to
 *   queueTimeoutMs, then fail with NOT_READY (ingest-slots.ts). Batches wait for their
 *   epoch's seal in seal-waiters.ts.
 */
import { EpochgraphError } from '../src/errors.js';
import { type ExternalId, partitionOf } from '../src/model/ids.js';
import type { Batch } from '../src/model/ops.js';
import { SchemaModel, type SchemaView } from '../src/model/schema.js';
import { GraphSnapshot } from '../src/storage/graph-snapshot.js';
import type { PartitionReader, StoreDescriptor, StoreLimits } from '../src/storage/index.js';
import { BatchPoster } from './batch-poster.js';
import { BatchSchemaGuard } from './batch-schema.js';
import { checkMachineFile, type DataDirLock, lockDataDir } from './data-dir.js';
import { EpochClock, type SealEvent, writesStopped } from './epoch-clock.js';
import { type EpochInfo, EpochLedger, type Pin } from './epoch-ledger.js';
import { IngestSlots } from './ingest-slots.js';
import { Listeners } from './listeners.js';
import { publishedSchema, recoverPartitions, startPartitions } from './machine-recovery.js';
import type { HandleLogger, PartitionHandle } from './partition-handle.js';
import type { CheckpointReport, WorkerStats } from './protocol.js';
import { SealWaiters, type SubmitResult } from './seal-waiters.js';

export type { SealEvent } from './epoch-clock.js';
export type { CheckpointReport } from './protocol.js';
export type { SubmitResult } from './seal-waiters.js';

export interface MachineOptions {
  dataDir: string;
  partitions: number;
  backupDir?: string;
  epochMs?: number;
  retainMs?: number;
  limits?: Partial<StoreLimits>;
  maxQueuedBatches?: number;
  queueTimeoutMs?: number;
  /**
   * A partition checkpoints once its WAL since the last checkpoint reaches
   * max(checkpointWalBytes, checkpointWalRatio x that checkpoint's size), which bounds what a
   * crash replays; defaults DEFAULT_CHECKPOINT_WAL_BYTES and DEFAULT_CHECKPOINT_WAL_RATIO.
   */
  checkpointWalBytes?: number;
  checkpointWalRatio?: number;
  /** ... or this long after its last checkpoint, if it logged anything since (default 5 min). */
  checkpointIntervalMs?: number;
  walSegmentBytes?: number;
  /**
   * Idle compaction: at a tick with no writes, if a partition holds at least this many live
   * adjacency entries in fragmented vertex ranges, seal an epoch that only compacts (a bounded
   * amount per partition). Reads of a freshly loaded graph then reach compacted speed soon
   * after the load. Default 65536; Infinity turns it off (compaction still rides along writes).
   */
  idleCompactMin?: number;
  logger?: HandleLogger;
}

export interface MachineStats {
  epoch: number;
  oldest: number;
  queuedBatches: number;
  sealsInFlight: number;
  partitions: WorkerStats[];
}

const RETENTION_TICK_MS = 1000;

const silent: HandleLogger = { info() {}, warn() {}, error() {} };

export class Machine {
  readonly partitions: number;
  readonly epochMs: number;
  readonly retainMs: number;
  private readonly handles: PartitionHandle[] = [];
  private readers: PartitionReader[] = [];
  private readonly ledger: EpochLedger;
  private readonly guard = new BatchSchemaGuard((id) => this.visibleLabel(id));
  private readonly poster: BatchPoster;
  private readonly clock: EpochClock;
  private readonly waiters = new SealWaiters();
  private sendLock: Promise<void> = Promise.resolve();
  private readonly slots: IngestSlots;
  private failure: EpochgraphError | null = null;
  private closing = false;
  private retentionTicker: NodeJS.Timeout | undefined;
  private lastFloor = 0;
  private readonly log: HandleLogger;
  private readonly checkpointListeners: Listeners<[number, CheckpointReport]>;

  private constructor(
    private readonly opts: MachineOptions,
    private readonly lock: DataDirLock,
  ) {
    this.partitions = opts.partitions;
    this.epochMs = opts.epochMs ?? 50;
    this.retainMs = opts.retainMs ?? 60_000;
    this.slots = new IngestSlots(opts.maxQueuedBatches ?? 256, opts.queueTimeoutMs ?? 5_000);
    this.log = opts.logger ?? silent;
    this.checkpointListeners = new Listeners(this.log, 'checkpoint');
    this.ledger = new EpochLedger(this.retainMs);
    this.clock = new EpochClock({
      handles: this.handles,
      ledger: this.ledger,
      guard: this.guard,
      waiters: this.waiters,
      idleCompactMin: opts.idleCompactMin ?? 65_536,
      log: this.log,
      exclusive: (fn) => this.exclusive(fn),
      failure: () => this.failure,
      fail: (err) => this.fail(err),
      closing: () => this.closing,
      applyRetention: () => this.applyRetention(),
    });
    this.poster = new BatchPoster({
      handles: this.handles,
      partitions: this.partitions,
      guard: this.guard,
      waiters: this.waiters,
      openEpoch: () => this.clock.openEpoch,
      posting: (ps) => this.clock.posting(ps),
      fail: (err) => this.fail(err),
    });
  }

  /** Open a data dir: lock it, start the workers, recover, start the epoch clock. */
  static async open(opts: MachineOptions): Promise<Machine> {
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1 || opts.partitions > 256) {
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `partitions must be an integer in [1, 256], got ${opts.partitions}`,
      );
    }
    // lockDataDir creates the directory durably (a plain mkdir first would skip that fsync).
    const lock = await lockDataDir(opts.dataDir);
    const m = new Machine(opts, lock);
    try {
      await checkMachineFile(opts.dataDir, opts.partitions);
      await m.recover();
    } catch (err) {
      await m.shutdownWorkers();
      await lock.release();
      throw err;
    }
    m.clock.start(m.epochMs);
    m.retentionTicker = setInterval(() => m.applyRetention(), RETENTION_TICK_MS);
    m.retentionTicker.unref();
    return m;
  }

  private async recover(): Promise<void> {
    startPartitions(
      this.opts,
      this.log,
      (p, err) => this.onWorkerFailure(p, err),
      this.handles,
      (p, report) => this.checkpointListeners.emit(p, report),
    );
    const r = await recoverPartitions(this.handles, this.ledger, this.log);
    this.readers = r.readers;
    this.clock.recovered(r.epoch);
    this.lastFloor = r.floor;
    this.guard.schema.merge(r.schema);
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  get latestEpoch(): number {
    return this.clock.visible;
  }

  get oldestEpoch(): number {
    return Math.max(this.ledger.oldest, this.lastFloor);
  }

  epochs(): readonly EpochInfo[] {
    return this.ledger.list().filter((i) => i.epoch >= this.oldestEpoch);
  }

  /** Metadata of the state at epoch e (the newest sealed epoch ≤ e). */
  epochInfo(e: number): EpochInfo {
    return this.ledger.resolve(e);
  }

  /** The newest epoch sealed at or before a time. */
  epochAsOf(timeMs: number): EpochInfo {
    return this.ledger.asOf(timeMs);
  }

  /** Open a consistent read of all partitions (default: the latest visible epoch). Close it. */
  snapshot(epoch?: number): GraphSnapshot {
    const e = epoch === undefined ? this.clock.visible : this.ledger.resolve(epoch).epoch;
    return new GraphSnapshot(this.readers, e);
  }

  descriptors(): StoreDescriptor[] {
    return this.readers.map((r) => r.descriptor);
  }

  /** The schema as the partitions published it (the union of their labels and properties). */
  schemaView(): SchemaView {
    const m = new SchemaModel();
    for (const r of this.readers) m.merge(publishedSchema(r));
    return m.view();
  }

  pin(epoch: number | undefined, ttlMs: number): Pin {
    return this.ledger.pin(epoch, ttlMs, Date.now());
  }

  unpin(id: string): boolean {
    return this.ledger.unpin(id);
  }

  onSeal(fn: (e: SealEvent) => void): () => void {
    return this.clock.onSeal(fn);
  }

  /** Call fn each time a partition's checkpoint ends (background or forced), for metrics. */
  onCheckpoint(fn: (partition: number, report: CheckpointReport) => void): () => void {
    return this.checkpointListeners.add(fn);
  }

  get failed(): EpochgraphError | null {
    return this.failure;
  }

  async stats(): Promise<MachineStats> {
    return {
      epoch: this.clock.visible,
      oldest: this.oldestEpoch,
      queuedBatches: this.slots.inUse,
      sealsInFlight: this.clock.sealsInFlight,
      partitions: await Promise.all(this.handles.map((h) => h.request('stats', {}))),
    };
  }

  // ---------------------------------------------------------------------------------------
  // Writes

  /**
   * Apply a decoded batch. Resolves once the epoch that contains it is sealed and durable on
   * every partition (and visible), with that epoch; rejects with the reason otherwise.
   */
  async submit(batch: Batch): Promise<SubmitResult> {
    this.checkWritable();
    await this.slots.take();
    try {
      // post() returns the acknowledgement wrapped: a bare promise would be adopted by the
      // async function and hold the send lock until the seal, which needs the lock.
      const { ack } = await this.exclusive(() => {
        this.checkWritable();
        return this.poster.post(batch);
      });
      return await ack;
    } finally {
      this.slots.release();
    }
  }

  private checkWritable(): void {
    if (this.failure !== null)
      throw new EpochgraphError('NOT_READY', `writes are stopped: ${this.failure.message}`);
    if (this.closing) throw new EpochgraphError('NOT_READY', 'the daemon is shutting down');
  }

  /** Run fn with the send lock (one poster at a time; seals and batches stay in order). */
  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.sendLock.then(fn);
    this.sendLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** A vertex's label at the visible epoch, from its owner's reader. */
  private visibleLabel(id: ExternalId): string | undefined {
    const s = this.readers[partitionOf(id, this.partitions)]?.open(this.clock.visible);
    if (s === undefined) return undefined;
    try {
      return s.vertex(id)?.label;
    } finally {
      s.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // The epoch clock (epoch-clock.ts), retention, failure and shutdown

  /** Seal now if anything changed (also used by shutdown and tests); else compact if due. */
  tick(): Promise<void> {
    return this.clock.tick();
  }

  private applyRetention(): void {
    if (this.failure !== null) return;
    const floor = this.ledger.retentionFloor(Date.now());
    if (floor <= this.lastFloor) return;
    this.lastFloor = floor;
    for (const h of this.handles) void h.request('retain', { oldest: floor }).catch(() => undefined);
  }

  private onWorkerFailure(p: number, err: EpochgraphError): void {
    if (this.closing) return;
    this.fail(new EpochgraphError('INTERNAL', `partition ${p} failed: ${err.message}`));
  }

  private fail(err: EpochgraphError): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.log.error(`writes stopped: ${err.message}`);
    this.waiters.rejectAll(() => writesStopped(err));
  }

  /** Force a checkpoint of the latest committed epoch on every partition. */
  async checkpoint(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.request('checkpoint', {})));
  }

  /**
   * Stop accepting writes, seal what was applied, wait until it is durable, stop the
   * workers, release the data dir.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.clock.stop();
    clearInterval(this.retentionTicker);
    // Let queued batches finish posting, then seal them.
    await this.exclusive(() => undefined);
    await this.tick();
    await this.clock.settled;
    this.closing = true;
    await Promise.allSettled(this.handles.map((h) => h.request('close', {})));
    await this.shutdownWorkers();
    await this.lock.release();
  }

  private async shutdownWorkers(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(this.handles.map((h) => h.terminate()));
  }
}
