/**
 * A machine: the partition workers of one daemon, driven from the main thread.
 *
 * - Writes: batches are posted in submission order under a send lock (batch-poster.ts
 *   checks, splits and posts each one into the open epoch), and every worker handles its
 *   messages in order, so all partitions see batches in one order; a batch with deleteVertex
 *   holds the lock across its segments so its cascades land before anything else.
 * - The epoch clock ticks every epochMs. A tick with changes seals epoch O on every partition
 *   (same number everywhere; partitions that logged nothing seal in memory only). Epoch O
 *   becomes visible once every partition has sealed it and every participant has made its WAL
 *   group durable; only then are its batches acknowledged with O. Visibility is in order.
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
import { type EpochInfo, EpochLedger, epochInfoOf, type Pin } from './epoch-ledger.js';
import { IngestSlots } from './ingest-slots.js';
import { publishedSchema, recoverPartitions, startPartitions } from './machine-recovery.js';
import type { HandleLogger, PartitionHandle } from './partition-handle.js';
import type { SealResultData, WorkerStats } from './protocol.js';
import { SealWaiters, type SubmitResult } from './seal-waiters.js';

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
  checkpointWalBytes?: number;
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

/** What a visible epoch looked like when it was sealed (for metadata, metrics and logs). */
export interface SealEvent {
  epoch: number;
  sealedAtMs: number;
  partitions: SealResultData[];
  /** From the tick to visibility. */
  latencyMs: number;
  backupFailed: boolean;
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
  private openEpoch = 1;
  private visible = 0;
  private dirty = false;
  private touched = new Set<number>();
  private readonly waiters = new SealWaiters();
  private sendLock: Promise<void> = Promise.resolve();
  private sealChain: Promise<void> = Promise.resolve();
  private sealsInFlight = 0;
  private readonly slots: IngestSlots;
  private failure: EpochgraphError | null = null;
  private closing = false;
  /** close() has begun: no more idle compaction. */
  private stopping = false;
  private ticker: NodeJS.Timeout | undefined;
  private retentionTicker: NodeJS.Timeout | undefined;
  private lastFloor = 0;
  /** Whether some partition's last seal reported at least idleCompactMin uncompacted entries. */
  private compactionWanted = false;
  private readonly idleCompactMin: number;
  private readonly listeners = new Set<(e: SealEvent) => void>();
  private readonly log: HandleLogger;

  private constructor(
    private readonly opts: MachineOptions,
    private readonly lock: DataDirLock,
  ) {
    this.partitions = opts.partitions;
    this.epochMs = opts.epochMs ?? 50;
    this.retainMs = opts.retainMs ?? 60_000;
    this.slots = new IngestSlots(opts.maxQueuedBatches ?? 256, opts.queueTimeoutMs ?? 5_000);
    this.idleCompactMin = opts.idleCompactMin ?? 65_536;
    this.log = opts.logger ?? silent;
    this.ledger = new EpochLedger(this.retainMs);
    this.poster = new BatchPoster({
      handles: this.handles,
      partitions: this.partitions,
      guard: this.guard,
      waiters: this.waiters,
      openEpoch: () => this.openEpoch,
      posting: (ps) => {
        this.dirty = true;
        for (const p of ps) this.touched.add(p);
      },
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
    m.ticker = setInterval(() => m.tick(), m.epochMs);
    m.retentionTicker = setInterval(() => m.applyRetention(), RETENTION_TICK_MS);
    m.ticker.unref();
    m.retentionTicker.unref();
    return m;
  }

  private async recover(): Promise<void> {
    startPartitions(this.opts, this.log, (p, err) => this.onWorkerFailure(p, err), this.handles);
    const r = await recoverPartitions(this.handles, this.ledger, this.log);
    this.readers = r.readers;
    this.visible = r.epoch;
    this.openEpoch = r.epoch + 1;
    this.lastFloor = r.floor;
    this.guard.schema.merge(r.schema);
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  get latestEpoch(): number {
    return this.visible;
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
    const e = epoch === undefined ? this.visible : this.ledger.resolve(epoch).epoch;
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
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get failed(): EpochgraphError | null {
    return this.failure;
  }

  async stats(): Promise<MachineStats> {
    return {
      epoch: this.visible,
      oldest: this.oldestEpoch,
      queuedBatches: this.slots.inUse,
      sealsInFlight: this.sealsInFlight,
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
    const s = this.readers[partitionOf(id, this.partitions)]?.open(this.visible);
    if (s === undefined) return undefined;
    try {
      return s.vertex(id)?.label;
    } finally {
      s.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // The epoch clock

  /** Seal now if anything changed (also used by shutdown and tests); else compact if due. */
  tick(): Promise<void> {
    if (this.failure !== null) return this.sealChain;
    if (!this.dirty) {
      if (this.compactionDue()) this.sealCompaction();
      return this.sealChain;
    }
    void this.exclusive(() => {
      if (!this.dirty) return;
      const participants = [...this.touched].sort((a, b) => a - b);
      this.touched = new Set();
      this.dirty = false;
      this.startSeal(participants, false);
    });
    return this.sealChain;
  }

  /** Seal the open epoch on every partition (under the send lock); a new epoch opens. */
  private startSeal(participants: number[], compactOnly: boolean): void {
    const epoch = this.openEpoch;
    this.openEpoch = epoch + 1;
    const sealedAtMs = Date.now();
    const started = performance.now();
    const replies = this.handles.map((h) =>
      h.request('seal', { epoch, sealedAtMs, participants, compactOnly }),
    );
    this.sealsInFlight++;
    // Visibility in epoch order: each finish waits for the previous one.
    this.sealChain = this.sealChain.then(() => this.finishSeal(epoch, sealedAtMs, started, replies));
  }

  /** An idle tick, no seal in flight, and some partition has enough to compact. */
  private compactionDue(): boolean {
    if (this.closing || this.stopping || this.sealsInFlight > 0) return false;
    return this.compactionWanted;
  }

  /**
   * Seal an epoch with no writes in which every partition compacts a bounded amount. The
   * epoch holds the same graph as the one before; it is logged (an empty group) so that its
   * number is never reused after a restart, and published like any other.
   */
  private sealCompaction(): void {
    void this.exclusive(() => {
      if (this.dirty || !this.compactionDue()) return;
      this.startSeal([], true);
    });
  }

  private async finishSeal(
    epoch: number,
    sealedAtMs: number,
    started: number,
    replies: Promise<SealResultData>[],
  ): Promise<void> {
    const results = await Promise.allSettled(replies);
    this.sealsInFlight--;
    const waiters = this.waiters.take(epoch);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed !== undefined) {
      const err =
        failed.reason instanceof EpochgraphError
          ? failed.reason
          : new EpochgraphError('INTERNAL', String(failed.reason));
      this.fail(new EpochgraphError('INTERNAL', `sealing epoch ${epoch} failed: ${err.message}`));
      for (const w of waiters) w.reject(writesStopped(this.failure as EpochgraphError));
      return;
    }
    const parts = results.map((r) => (r as PromiseFulfilledResult<SealResultData>).value);
    this.compactionWanted = parts.some((p) => p.uncompactedEntries >= this.idleCompactMin);
    this.ledger.record(
      epochInfoOf(
        epoch,
        sealedAtMs,
        parts.map((p, i) => ({ partition: i, vertices: p.vertices, edges: p.edges })),
      ),
    );
    // Every partition has sealed epoch; every participant's group is durable: make it visible.
    this.visible = epoch;
    this.guard.visibleThrough(epoch);
    const backup = parts.find((p) => p.backupError !== undefined)?.backupError;
    for (const w of waiters) {
      if (backup !== undefined) {
        w.reject(
          new EpochgraphError(
            'BACKUP_UNAVAILABLE',
            `the backup copy failed, so the batch is not acknowledged: ${backup.message}`,
          ),
        );
      } else w.resolve({ epoch, applied: w.applied });
    }
    for (const h of this.handles) void h.request('committed', { epoch }).catch(() => undefined);
    this.applyRetention();
    const event: SealEvent = {
      epoch,
      sealedAtMs,
      partitions: parts,
      latencyMs: performance.now() - started,
      backupFailed: backup !== undefined,
    };
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (err) {
        this.log.error(`seal listener failed: ${(err as Error).message}`);
      }
    }
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
    this.stopping = true;
    clearInterval(this.ticker);
    clearInterval(this.retentionTicker);
    // Let queued batches finish posting, then seal them.
    await this.exclusive(() => undefined);
    await this.tick();
    await this.sealChain;
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

/**
 * The answer to a batch that was waiting for its epoch when writes stopped. It was applied in
 * memory and may be in the WAL, so it may be visible after a restart: the caller must not
 * blindly send it again (the client's retry rule reads `mayHaveBeenApplied`).
 */
function writesStopped(cause: EpochgraphError): EpochgraphError {
  return new EpochgraphError(
    'NOT_READY',
    `writes stopped before this batch was acknowledged (${cause.message}); it may have been applied: restart the daemon and check before sending it again`,
    { reason: 'WRITES_STOPPED', mayHaveBeenApplied: true },
  );
}
