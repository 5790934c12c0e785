/**
 * The coalescing publisher: the one writer of blob keys, latest-epoch keys, schema keys and
 * prunes for this store.
 *
 * Sealing must never wait on etcd (DESIGN.md §6: "if etcd is down, ingest and reads go on").
 * So `publish()` only records the state and returns. A single worker loop writes whatever is
 * newest when it gets to it. Pending work is keyed (one slot per partition, one per schema,
 * one floor), so a newer state replaces an older pending one and memory stays bounded no
 * matter how long etcd is away. On failure the loop backs off briefly (at most
 * MAX_BACKOFF_MS) and tries again, so it catches up within about that long once etcd is back.
 *
 * Latest-epoch keys never go backwards: latest-epoch-cas.ts. What `flush()` waits for (each
 * slot's newest submission, or a newer one, written): flush-tracker.ts.
 *
 * Pruning: blob keys below the floor are deleted by name, from a BlobInventory (see there
 * for why it cannot be a range delete).
 */
import { EpochgraphError } from '../src/errors.js';
import { BlobInventory } from './blob-inventory.js';
import { FlushTracker } from './flush-tracker.js';
import type { MetaKeys } from './keys.js';
import { type KvBackend, MAX_TXN_OPS } from './kv-backend.js';
import { type EpochWrite, LatestEpochCas } from './latest-epoch-cas.js';
import type { MetaLogger } from './logger.js';
import { checkCount, checkPublishState, type PublishState } from './publish-state.js';

export type { PartitionEpoch, PublishState } from './publish-state.js';

/** First retry delay after a failed write. */
const INITIAL_BACKOFF_MS = 20;
/** Retry delay cap: the longest etcd can be back before the publisher notices. */
const MAX_BACKOFF_MS = 250;
/** A publish txn writes a blob and the latest key per partition. */
const PARTITIONS_PER_TXN = Math.floor(MAX_TXN_OPS / 2);
/** Lag samples kept for `stats()`. */
const LAG_SAMPLES_KEPT = 256;

/** Called after each successful publish transaction, e.g. to feed a latency histogram. */
export type PublishedListener = (info: {
  readonly epochs: readonly { readonly partition: number; readonly epoch: number }[];
  /** From the oldest `publish()` call folded into this write until the write succeeded. */
  readonly lagMs: number;
}) => void;

/** The publisher's counters, for metrics. */
export interface PublisherStats {
  /** Whether the last call to the store succeeded. */
  readonly etcdUp: boolean;
  /** The largest epoch written by the last successful publish, null before the first. */
  readonly lastPublishedEpoch: number | null;
  /** Per partition, the newest epoch whose blob this store wrote. */
  readonly publishedEpochs: ReadonlyMap<number, number>;
  readonly publishes: number;
  readonly failures: number;
  readonly casConflicts: number;
  /** Recent publish lags in ms (oldest first), see PublishedListener. */
  readonly lagSamplesMs: readonly number[];
  /** Partitions with a state waiting to be written. */
  readonly pendingPartitions: number;
  /** Blob keys of this store's machines that may exist (written, attempted or listed; not yet pruned). */
  readonly blobKeys: number;
  readonly prunedKeys: number;
  readonly lastError: { readonly message: string; readonly atMs: number } | null;
}

interface PendingEpoch extends EpochWrite {
  readonly seq: number;
  /** The oldest publish() call this entry stands for (it may have replaced older ones). */
  readonly firstSubmittedAt: number;
}

interface PendingSchema {
  readonly partition: number;
  readonly json: string;
  readonly seq: number;
}

const PRUNE_SLOT = 'prune';
/**
 * One pending slot per partition (not per machine and partition): a txn must not name the
 * same latest-epoch key twice, and a partition has one writer anyway.
 */
const publishSlot = (partition: number) => `publish:${partition}`;
const schemaSlot = (partition: number) => `schema:${partition}`;

export interface EpochPublisherOptions {
  readonly kv: KvBackend;
  readonly keys: MetaKeys;
  readonly logger: MetaLogger;
  readonly onPublished?: PublishedListener;
}

export class EpochPublisher {
  private readonly kv: KvBackend;
  private readonly keys: MetaKeys;
  private readonly logger: MetaLogger;
  private readonly onPublished: PublishedListener | undefined;

  private pendingEpochs = new Map<string, PendingEpoch>();
  private pendingSchemas = new Map<number, PendingSchema>();
  private floor: number | null = null;
  private floorSeq = 0;
  private readonly flushes = new FlushTracker();

  /** Machines whose blob keys we write and prune; listed once, on first sight. */
  private readonly machines = new Set<number>();
  private readonly inventoried = new Set<number>();
  private readonly blobs = new BlobInventory();
  private readonly cas: LatestEpochCas;

  private running = false;
  private stopped = false;
  private backoffMs = INITIAL_BACKOFF_MS;
  private wakeSleeper: (() => void) | null = null;

  private etcdUp = true;
  private lastPublishedEpoch: number | null = null;
  private readonly publishedEpochs = new Map<number, number>();
  private publishes = 0;
  private failures = 0;
  private readonly lagSamples: number[] = [];
  private prunedKeys = 0;
  private lastError: { message: string; atMs: number } | null = null;

  constructor(opts: EpochPublisherOptions) {
    this.kv = opts.kv;
    this.keys = opts.keys;
    this.logger = opts.logger;
    this.onPublished = opts.onPublished;
    this.cas = new LatestEpochCas(opts.kv, opts.keys, opts.logger);
  }

  /** Record a sealed state; never waits and never fails because of etcd. */
  publish(state: PublishState): void {
    checkPublishState(state);
    if (this.stopped) return;
    this.noteMachine(state.machine);
    const now = performance.now();
    for (const entry of state.partitions) {
      const slot = publishSlot(entry.partition);
      const seq = this.flushes.submit(slot);
      const older = this.pendingEpochs.get(slot);
      this.pendingEpochs.set(slot, {
        machine: state.machine,
        fnum: state.fnum,
        endpoint: state.endpoint,
        entry,
        seq,
        firstSubmittedAt: older?.firstSubmittedAt ?? now,
      });
    }
    this.kick();
  }

  /** Record a new schema of a partition; coalesced like publish. */
  putSchema(partition: number, json: string): void {
    checkCount('partition', partition);
    if (this.stopped) return;
    const seq = this.flushes.submit(schemaSlot(partition));
    this.pendingSchemas.set(partition, { partition, json, seq });
    this.kick();
  }

  /** Delete this store's blob keys with epoch < floor, now and for every later write. */
  setRetainedFloor(epoch: number): void {
    checkCount('floor', epoch);
    if (this.stopped) return;
    this.floor = epoch;
    this.floorSeq = this.flushes.submit(PRUNE_SLOT);
    this.kick();
  }

  /** Make pruning cover a machine's keys from earlier runs even before it publishes. */
  noteMachine(machine: number): void {
    if (this.machines.has(machine)) return;
    this.machines.add(machine);
    this.kick();
  }

  /** Resolves when everything submitted so far (or something newer) is in the store. */
  flush(): Promise<void> {
    const target = this.flushes.target();
    if (this.flushes.isFlushed(target)) return Promise.resolve();
    if (this.stopped) return Promise.reject(new EpochgraphError('NOT_READY', 'the publisher is closed'));
    return this.flushes.wait(target);
  }

  /** Stop writing. Pending work is dropped and flush waiters are rejected. */
  stop(): void {
    this.stopped = true;
    this.wakeSleeper?.();
    this.flushes.rejectAll(() => new EpochgraphError('NOT_READY', 'the publisher closed before flushing'));
  }

  stats(): PublisherStats {
    return {
      etcdUp: this.etcdUp,
      lastPublishedEpoch: this.lastPublishedEpoch,
      publishedEpochs: new Map(this.publishedEpochs),
      publishes: this.publishes,
      failures: this.failures,
      casConflicts: this.cas.conflicts,
      lagSamplesMs: [...this.lagSamples],
      pendingPartitions: this.pendingEpochs.size,
      blobKeys: this.blobs.size,
      prunedKeys: this.prunedKeys,
      lastError: this.lastError,
    };
  }

  private hasWork(): boolean {
    if (this.pendingEpochs.size > 0 || this.pendingSchemas.size > 0) return true;
    for (const m of this.machines) if (!this.inventoried.has(m)) return true;
    return this.hasPrunable() || this.flushes.ackedSeq(PRUNE_SLOT) < this.floorSeq;
  }

  private hasPrunable(): boolean {
    return this.floor !== null && this.blobs.hasBelow(this.floor);
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    // Start on a later turn of the event loop: building the gRPC call (and, after an outage,
    // a new channel) is work the sealing caller must not pay for inside publish().
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.hasWork()) {
      try {
        await this.pass();
        this.etcdUp = true;
        this.backoffMs = INITIAL_BACKOFF_MS;
      } catch (err) {
        if (this.stopped) break; // the connection was closed under the last attempt
        this.failures++;
        const message = err instanceof Error ? err.message : String(err);
        if (this.etcdUp) this.logger.warn('metadata store write failed; retrying', { error: message });
        this.etcdUp = false;
        this.lastError = { message, atMs: Date.now() };
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      }
      this.flushes.settle();
    }
    this.running = false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeSleeper = null;
        resolve();
      }
      this.wakeSleeper = done;
    });
  }

  private async pass(): Promise<void> {
    for (const m of this.machines) if (!this.inventoried.has(m)) await this.inventory(m);
    if (this.pendingEpochs.size > 0) await this.writeEpochs();
    if (this.pendingSchemas.size > 0) await this.writeSchemas();
    await this.prune();
  }

  /** List the machine's blob keys once, so keys left by an earlier run are pruned too. */
  private async inventory(machine: number): Promise<void> {
    const keys = await this.kv.listKeys(this.keys.machineBlobPrefix(machine));
    let found = 0;
    for (const key of keys) {
      const parts = this.keys.parseBlob(key);
      if (parts !== null && parts.machine === machine && this.blobs.add(parts)) found++;
    }
    this.inventoried.add(machine);
    if (found > 0) this.logger.info('found blob keys of this machine from earlier runs', { machine, found });
  }

  private async writeEpochs(): Promise<void> {
    const taken = [...this.pendingEpochs.values()];
    this.pendingEpochs = new Map();
    for (let i = 0; i < taken.length; i += PARTITIONS_PER_TXN) {
      const chunk = taken.slice(i, i + PARTITIONS_PER_TXN);
      try {
        await this.writeChunk(chunk);
      } catch (err) {
        // Put back what was not written, unless a newer state for the slot arrived meanwhile.
        for (const p of taken.slice(i)) {
          const slot = publishSlot(p.entry.partition);
          const newer = this.pendingEpochs.get(slot);
          if (newer === undefined) this.pendingEpochs.set(slot, p);
          else this.pendingEpochs.set(slot, { ...newer, firstSubmittedAt: p.firstSubmittedAt });
        }
        throw err;
      }
    }
  }

  private async writeChunk(chunk: readonly PendingEpoch[]): Promise<void> {
    // Inventory the blob keys before the write: a transaction whose answer is lost (a timeout,
    // a dropped connection) may still have been applied, and a newer state may replace this
    // one before a retry, so only the inventory remembers to prune it. Deleting a key that was
    // never written is harmless.
    for (const p of chunk)
      this.blobs.add({ machine: p.machine, partition: p.entry.partition, epoch: p.entry.epoch });
    await this.cas.write(chunk);
    this.recordPublished(chunk);
  }

  private recordPublished(chunk: readonly PendingEpoch[]): void {
    const now = performance.now();
    let oldest = now;
    let maxEpoch = -1;
    // (The blob keys were inventoried before the write: writeChunk.)
    for (const p of chunk) {
      this.flushes.ack(publishSlot(p.entry.partition), p.seq);
      const prev = this.publishedEpochs.get(p.entry.partition);
      if (prev === undefined || prev < p.entry.epoch)
        this.publishedEpochs.set(p.entry.partition, p.entry.epoch);
      oldest = Math.min(oldest, p.firstSubmittedAt);
      maxEpoch = Math.max(maxEpoch, p.entry.epoch);
    }
    const lagMs = now - oldest;
    this.publishes++;
    this.lastPublishedEpoch = maxEpoch;
    this.lagSamples.push(lagMs);
    if (this.lagSamples.length > LAG_SAMPLES_KEPT) this.lagSamples.shift();
    if (this.onPublished !== undefined) {
      try {
        this.onPublished({
          epochs: chunk.map((p) => ({ partition: p.entry.partition, epoch: p.entry.epoch })),
          lagMs,
        });
      } catch (err) {
        this.logger.error('onPublished listener threw', { error: String(err) });
      }
    }
  }

  private async writeSchemas(): Promise<void> {
    const taken = [...this.pendingSchemas.values()];
    this.pendingSchemas = new Map();
    try {
      for (let i = 0; i < taken.length; i += MAX_TXN_OPS) {
        const chunk = taken.slice(i, i + MAX_TXN_OPS);
        await this.kv.txn({
          compares: [],
          writes: chunk.map((s) => ({ kind: 'put', key: this.keys.schema(s.partition), value: s.json })),
          readsOnFailure: [],
        });
        for (const s of chunk) this.flushes.ack(schemaSlot(s.partition), s.seq);
      }
    } catch (err) {
      for (const s of taken) {
        if (this.flushes.ackedSeq(schemaSlot(s.partition)) >= s.seq) continue;
        if (!this.pendingSchemas.has(s.partition)) this.pendingSchemas.set(s.partition, s);
      }
      throw err;
    }
  }

  private async prune(): Promise<void> {
    const floor = this.floor;
    if (floor === null) return;
    const floorSeq = this.floorSeq;
    // Every machine's keys were listed before anything was written (pass() lists first).
    const doomed = this.blobs.below(floor).map((parts) => ({
      parts,
      key: this.keys.blob(parts.machine, parts.partition, parts.epoch),
    }));
    for (let i = 0; i < doomed.length; i += MAX_TXN_OPS) {
      const chunk = doomed.slice(i, i + MAX_TXN_OPS);
      await this.kv.txn({
        compares: [],
        writes: chunk.map((d) => ({ kind: 'delete', key: d.key })),
        readsOnFailure: [],
      });
      for (const d of chunk) this.blobs.remove(d.parts);
      this.prunedKeys += chunk.length;
    }
    this.flushes.ack(PRUNE_SLOT, floorSeq);
  }
}
