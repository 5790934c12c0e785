/**
 * The machine's epoch clock: which epoch is open for writes, which is visible to reads, and
 * the seals that move them.
 *
 * - The clock ticks every epochMs. A tick with changes seals epoch O on every partition (same
 *   number everywhere; partitions that logged nothing seal in memory only) and opens O + 1.
 *   Epoch O becomes visible once every partition has sealed it and every participant has made
 *   its WAL group durable; only then are its batches (waiting in seal-waiters.ts) acknowledged
 *   with O. Visibility is in order: each seal's finish waits for the previous one.
 * - An idle tick may instead seal an epoch that only compacts (idle compaction).
 * - A seal that fails on any partition stops the machine's writes.
 *
 * It is separate from machine.ts because it alone advances epochs: the machine posts batches
 * into `openEpoch` and reads at `visible`, and only the clock moves them. Seals start under the
 * machine's send lock (`exclusive`), so a seal and the batches posted around it reach every
 * partition in one order.
 */
import { EpochgraphError } from '../src/errors.js';
import type { BatchSchemaGuard } from './batch-schema.js';
import { type EpochLedger, epochInfoOf } from './epoch-ledger.js';
import { Listeners } from './listeners.js';
import type { HandleLogger, PartitionHandle } from './partition-handle.js';
import type { SealResultData } from './protocol.js';
import type { SealWaiters } from './seal-waiters.js';

/** What a visible epoch looked like when it was sealed (for metadata, metrics and logs). */
export interface SealEvent {
  epoch: number;
  sealedAtMs: number;
  partitions: SealResultData[];
  /** From the tick to visibility. */
  latencyMs: number;
  backupFailed: boolean;
}

export interface EpochClockDeps {
  /** The partition workers, by partition (filled by the machine's recovery). */
  readonly handles: readonly PartitionHandle[];
  readonly ledger: EpochLedger;
  readonly guard: BatchSchemaGuard;
  readonly waiters: SealWaiters;
  /** See MachineOptions.idleCompactMin. */
  readonly idleCompactMin: number;
  readonly log: HandleLogger;
  /** Run fn with the machine's send lock (seals and batches stay in order). */
  exclusive(fn: () => void): Promise<void>;
  /** Why the machine's writes stopped, or null. */
  failure(): EpochgraphError | null;
  /** Stop the machine's writes. */
  fail(err: EpochgraphError): void;
  /** The machine is stopping its workers. */
  closing(): boolean;
  /** Apply the retention floor (after every newly visible epoch). */
  applyRetention(): void;
}

export class EpochClock {
  private opened = 1;
  private visibleEpoch = 0;
  private dirty = false;
  private touched = new Set<number>();
  private sealChain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** stop() was called (the machine is closing): no more ticks, no more idle compaction. */
  private stopping = false;
  private ticker: NodeJS.Timeout | undefined;
  /** Whether some partition's last seal reported at least idleCompactMin uncompacted entries. */
  private compactionWanted = false;
  private readonly listeners: Listeners<[SealEvent]>;

  constructor(private readonly deps: EpochClockDeps) {
    this.listeners = new Listeners(deps.log, 'seal');
  }

  /** The epoch batches land in now. */
  get openEpoch(): number {
    return this.opened;
  }

  /** The newest visible epoch. */
  get visible(): number {
    return this.visibleEpoch;
  }

  get sealsInFlight(): number {
    return this.inFlight;
  }

  /** Settles when every seal started so far has finished. */
  get settled(): Promise<void> {
    return this.sealChain;
  }

  /** Recovery aligned every partition to `epoch`: it is visible, and the next one opens. */
  recovered(epoch: number): void {
    this.visibleEpoch = epoch;
    this.opened = epoch + 1;
  }

  /** Batches are being posted to these partitions: the open epoch has changes. */
  posting(partitions: readonly number[]): void {
    this.dirty = true;
    for (const p of partitions) this.touched.add(p);
  }

  onSeal(fn: (e: SealEvent) => void): () => void {
    return this.listeners.add(fn);
  }

  /** Tick every epochMs (the timer does not keep the process alive). */
  start(epochMs: number): void {
    this.ticker = setInterval(() => this.tick(), epochMs);
    this.ticker.unref();
  }

  /** No more ticks and no more idle compaction; tick() still seals what was applied. */
  stop(): void {
    this.stopping = true;
    clearInterval(this.ticker);
  }

  /** Seal now if anything changed (also used by shutdown and tests); else compact if due. */
  tick(): Promise<void> {
    if (this.deps.failure() !== null) return this.sealChain;
    if (!this.dirty) {
      if (this.compactionDue()) this.sealCompaction();
      return this.sealChain;
    }
    void this.deps.exclusive(() => {
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
    const epoch = this.opened;
    this.opened = epoch + 1;
    const sealedAtMs = Date.now();
    const started = performance.now();
    const replies = this.deps.handles.map((h) =>
      h.request('seal', { epoch, sealedAtMs, participants, compactOnly }),
    );
    this.inFlight++;
    // Visibility in epoch order: each finish waits for the previous one.
    this.sealChain = this.sealChain.then(() => this.finishSeal(epoch, sealedAtMs, started, replies));
  }

  /** An idle tick, no seal in flight, and some partition has enough to compact. */
  private compactionDue(): boolean {
    if (this.deps.closing() || this.stopping || this.inFlight > 0) return false;
    return this.compactionWanted;
  }

  /**
   * Seal an epoch with no writes in which every partition compacts a bounded amount. The
   * epoch holds the same graph as the one before; it is logged (an empty group) so that its
   * number is never reused after a restart, and published like any other.
   */
  private sealCompaction(): void {
    void this.deps.exclusive(() => {
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
    this.inFlight--;
    const waiters = this.deps.waiters.take(epoch);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed !== undefined) {
      const err =
        failed.reason instanceof EpochgraphError
          ? failed.reason
          : new EpochgraphError('INTERNAL', String(failed.reason));
      this.deps.fail(new EpochgraphError('INTERNAL', `sealing epoch ${epoch} failed: ${err.message}`));
      for (const w of waiters) w.reject(writesStopped(this.deps.failure() as EpochgraphError));
      return;
    }
    const parts = results.map((r) => (r as PromiseFulfilledResult<SealResultData>).value);
    this.compactionWanted = parts.some((p) => p.uncompactedEntries >= this.deps.idleCompactMin);
    this.deps.ledger.record(
      epochInfoOf(
        epoch,
        sealedAtMs,
        parts.map((p, i) => ({ partition: i, vertices: p.vertices, edges: p.edges })),
      ),
    );
    // Every partition has sealed epoch; every participant's group is durable: make it visible.
    this.visibleEpoch = epoch;
    this.deps.guard.visibleThrough(epoch);
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
    for (const h of this.deps.handles) void h.request('committed', { epoch }).catch(() => undefined);
    this.deps.applyRetention();
    const event: SealEvent = {
      epoch,
      sealedAtMs,
      partitions: parts,
      latencyMs: performance.now() - started,
      backupFailed: backup !== undefined,
    };
    this.listeners.emit(event);
  }
}

/**
 * The answer to a batch that was waiting for its epoch when writes stopped. It was applied in
 * memory and may be in the WAL, so it may be visible after a restart: the caller must not
 * blindly send it again (the client's retry rule reads `mayHaveBeenApplied`).
 */
export function writesStopped(cause: EpochgraphError): EpochgraphError {
  return new EpochgraphError(
    'NOT_READY',
    `writes stopped before this batch was acknowledged (${cause.message}); it may have been applied: restart the daemon and check before sending it again`,
    { reason: 'WRITES_STOPPED', mayHaveBeenApplied: true },
  );
}
