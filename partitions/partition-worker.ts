/**
 * A partition worker: the single writer of one partition's store. It applies sub-batches to
 * the open epoch and logs them, seals epochs (one WAL group and one fsync per seal, only when
 * it logged something), advances retention, compacts while there are writes anyway, writes
 * checkpoints of committed epochs in time slices, and recovers from checkpoint + WAL at start.
 *
 * Requests are handled in arrival order. A seal's in-memory part is synchronous; its fsync is
 * awaited while later requests (the next epoch's applies) go on, and the WAL keeps records
 * appended meanwhile for the next group.
 */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { EpochgraphError, toErrorData } from '../src/errors.js';
import { decodeBatch } from '../src/model/ops.js';
import { encodeCheckpoint } from '../src/storage/checkpoint-codec.js';
import { restoreCheckpoint } from '../src/storage/checkpoint-restore.js';
import { type LoadCompaction, PartitionReader, PartitionStore } from '../src/storage/index.js';
import { type CheckpointStore, openCheckpointStore } from './checkpoint.js';
import { frameRecord, readFramedRecords } from './checkpoint-stream.js';
import {
  type CheckpointReport,
  checkWorkerRequest,
  type EpochRecord,
  isEpochRecord,
  type ReplayedEpoch,
  type ReplayResult,
  type ScanResult,
  type SealResultData,
  type WorkerInit,
  type WorkerRequest,
  type WorkerStats,
} from './protocol.js';
import { openWal } from './wal-open.js';
import { readWal } from './wal-reader.js';
import type { WalWriter } from './wal-writer.js';

/** Entries compacted per seal while writes are flowing (bounded pause). */
const COMPACT_BUDGET = 1 << 18;
/**
 * Under a write load (an epoch that changes a record range's worth of lists or more), a
 * range is compacted once its lists have gone unchanged for 20 epochs (1 s at 50 ms epochs),
 * or when it is mostly garbage (compaction-schedule.ts).
 */
const UNDER_LOAD: LoadCompaction = { coldEpochs: 20, minLists: 4096 };
/** Yield to queued requests after this much checkpoint encoding. */
const CHECKPOINT_SLICE_MS = 8;

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('partition-worker must run in a worker thread');

let store: PartitionStore | null = null;
let wal: WalWriter | null = null;
let checkpoints: CheckpointStore | null = null;
let checkpointEpoch = 0;
let loggedThisEpoch = 0;
let walBytesTotal = 0;
let walBytesSinceCheckpoint = 0;
/** Body bytes of the newest checkpoint (loaded or written): the due size scales with it. */
let lastCheckpointBytes = 0;
let lastCheckpointAt = Date.now();
/**
 * After a checkpoint fails, the automatic ones wait before trying again: 1 s, doubling with
 * each failure in a row, up to a minute (a full disk, a lost backup directory or a record too
 * long to checkpoint would otherwise start one at every commit, each encoding the partition
 * again). A success resets it; an explicit checkpoint request does not wait.
 */
const CHECKPOINT_RETRY_MIN_MS = 1000;
const CHECKPOINT_RETRY_MAX_MS = 60_000;
let checkpointRetryMs = 0;
let checkpointRetryAt = 0;
/** How often an idle partition checks the checkpoint interval rule. */
const IDLE_CHECK_MS = 1000;
let idleCheck: ReturnType<typeof setInterval> | null = null;
let committedEpoch = 0;
let checkpointing: Promise<{ epoch: number; bytes: number } | null> | null = null;
let closing = false;
/** Versions freed per reclamation step (~2 ms at 1M vertices), and whether a step is queued. */
const RECLAIM_STEP = 1 << 14;
let reclaiming = false;

function log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
  port?.postMessage({ t: 'log', level, message: `p${init.partition}: ${message}`, fields });
}

function must<T>(v: T | null, what: string): T {
  if (v === null)
    throw new EpochgraphError('NOT_READY', `partition ${init.partition}: ${what} is not open yet`);
  return v;
}

async function scan(): Promise<ScanResult> {
  checkpoints = await openCheckpointStore({ dir: init.checkpointDir, backupDir: init.backupCheckpointDir });
  const loaded = await checkpoints.loadLatest();
  for (const s of loaded?.skipped ?? []) log('warn', `skipped checkpoint ${s.file}: ${s.problem}`);
  if (loaded !== null) {
    store = await restoreCheckpoint(readFramedRecords(loaded.body()), { limits: init.limits });
    if (store.partition !== init.partition || store.partitions !== init.partitions) {
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `checkpoint ${loaded.file} belongs to partition ${store.partition} of ${store.partitions}, not ${init.partition} of ${init.partitions}`,
      );
    }
    checkpointEpoch = loaded.epoch;
    lastCheckpointBytes = loaded.bodyBytes;
  } else {
    store = PartitionStore.create({
      partition: init.partition,
      partitions: init.partitions,
      limits: init.limits,
    });
  }
  const opened = await openWal({
    dir: init.walDir,
    backupDir: init.backupWalDir,
    segmentBytes: init.walSegmentBytes,
    afterEpoch: checkpointEpoch,
  });
  wal = opened;
  const tail = opened.recovery.tail;
  if (tail !== null) log('warn', `cut a torn WAL tail: ${JSON.stringify(tail)}`);
  const groups: [number, number[]][] = [];
  for await (const g of readWal(init.walDir, { afterEpoch: checkpointEpoch })) {
    const last = g.records[g.records.length - 1];
    if (!isEpochRecord(last) || last.epoch !== g.epoch) {
      throw new EpochgraphError('INTERNAL', `WAL group of epoch ${g.epoch} has no epoch record`, {
        reason: 'DATA_CORRUPT',
      });
    }
    groups.push([g.epoch, last.participants]);
  }
  return { checkpointEpoch, groups, tornTail: tail === null ? null : JSON.stringify(tail) };
}

async function replay(skip: number[], alignEpoch: number): Promise<ReplayResult> {
  const s = must(store, 'store');
  const skipped = new Set(skip);
  let replayed = 0;
  const epochs: ReplayedEpoch[] = [];
  for await (const g of readWal(init.walDir, { afterEpoch: checkpointEpoch })) {
    if (skipped.has(g.epoch)) {
      log(
        'warn',
        `skipping epoch ${g.epoch}: not every partition that logged it made it durable (it was never acknowledged)`,
      );
      continue;
    }
    s.beginEpoch(g.epoch);
    for (let i = 0; i < g.records.length - 1; i++) s.apply(decodeWalBatch(g.records[i], g.epoch));
    const info = s.seal(g.sealedAtMs, g.epoch);
    epochs.push({
      epoch: info.epoch,
      sealedAtMs: info.sealedAtMs,
      vertices: info.vertices,
      edges: info.edges,
    });
    replayed++;
  }
  if (s.published < alignEpoch) {
    s.beginEpoch(alignEpoch);
    const info = s.seal(Date.now(), alignEpoch);
    epochs.push({
      epoch: info.epoch,
      sealedAtMs: info.sealedAtMs,
      vertices: info.vertices,
      edges: info.edges,
    });
  }
  // Everything replayed was read back from the durable log, and the machine aligned every
  // partition on the same epoch: it is committed, so a checkpoint may cover it (without this a
  // restarted daemon could not checkpoint until its next write, and every restart replayed
  // the whole log again). The replayed log counts toward the next checkpoint.
  committedEpoch = Math.max(committedEpoch, s.published);
  if (replayed > 0) {
    for (const seg of must(wal, 'WAL').segmentList)
      if ((seg.lastEpoch ?? 0) > checkpointEpoch) walBytesSinceCheckpoint += seg.size;
  }
  return {
    descriptor: s.descriptor,
    epoch: s.published,
    replayed,
    skipped: skipped.size,
    vertices: s.vertexCount,
    edges: s.edgeTotal,
    epochs,
  };
}

function decodeWalBatch(record: unknown, epoch: number) {
  if (record === null || typeof record !== 'object' || (record as { kind?: unknown }).kind !== 'batch') {
    throw new EpochgraphError('INTERNAL', `WAL record of epoch ${epoch} is not a batch`, {
      reason: 'DATA_CORRUPT',
    });
  }
  const r = record as { ops?: unknown; edges?: unknown };
  try {
    return decodeBatch(r.edges === undefined ? { ops: r.ops } : { ops: r.ops, edges: r.edges });
  } catch (err) {
    throw new EpochgraphError(
      'INTERNAL',
      `WAL batch of epoch ${epoch} is invalid: ${(err as Error).message}`,
      {
        reason: 'DATA_CORRUPT',
      },
    );
  }
}

function apply(req: Extract<WorkerRequest, { t: 'apply' }>) {
  const s = must(store, 'store');
  const w = must(wal, 'WAL');
  if (closing) throw new EpochgraphError('NOT_READY', 'partition is shutting down');
  const batch = decodeBatch(req.edges === undefined ? { ops: req.ops } : { ops: req.ops, edges: req.edges });
  const result = s.apply(batch);
  // Logged only once applied: a batch the store refused is not in the WAL.
  w.append(
    req.edges === undefined
      ? { kind: 'batch', ops: req.ops }
      : { kind: 'batch', ops: req.ops, edges: req.edges },
  );
  loggedThisEpoch++;
  return result;
}

async function seal(req: Extract<WorkerRequest, { t: 'seal' }>): Promise<SealResultData> {
  const s = must(store, 'store');
  const w = must(wal, 'WAL');
  // Compaction rides along with epochs that have writes anyway; an idle epoch that the
  // machine seals for compaction (compactOnly) does the same amount.
  if ((s.hasChanges || req.compactOnly) && s.needsCompaction()) {
    // Idle compaction epochs (compactOnly) take every fragmented range: writes have stopped.
    s.compact(COMPACT_BUDGET, req.compactOnly ? null : UNDER_LOAD);
  }
  if (!s.hasChanges && s.openEpoch < req.epoch) s.beginEpoch(req.epoch);
  const info = s.seal(req.sealedAtMs, req.epoch);
  const result: SealResultData = {
    epoch: info.epoch,
    sealedAtMs: info.sealedAtMs,
    vertices: info.vertices,
    edges: info.edges,
    changedRecords: info.changedRecords,
    sealMs: info.durationMs,
    durableMs: 0,
    walBytes: 0,
    uncompactedEntries: s.uncompactedEntries(),
  };
  // A compaction epoch is logged too (an empty group), so its number is never reused.
  if (loggedThisEpoch === 0 && !req.compactOnly) return result;
  loggedThisEpoch = 0;
  const epochRecord: EpochRecord = { kind: 'epoch', epoch: req.epoch, participants: req.participants };
  w.append(epochRecord);
  const t0 = performance.now();
  try {
    const r = await w.seal(req.epoch, req.sealedAtMs);
    result.walBytes = r.bytes;
  } catch (err) {
    const e = err instanceof EpochgraphError ? err : new EpochgraphError('INTERNAL', String(err));
    if (e.code !== 'BACKUP_UNAVAILABLE') throw e;
    result.backupError = e.toData();
  }
  result.durableMs = performance.now() - t0;
  walBytesTotal += result.walBytes;
  walBytesSinceCheckpoint += result.walBytes;
  return result;
}

function shouldCheckpoint(): boolean {
  if (checkpointing !== null || closing || committedEpoch <= checkpointEpoch) return false;
  if (Date.now() < checkpointRetryAt) return false;
  if (walBytesSinceCheckpoint >= checkpointDueBytes()) return true;
  return walBytesSinceCheckpoint > 0 && Date.now() - lastCheckpointAt >= init.checkpointIntervalMs;
}

/**
 * WAL bytes since the last checkpoint that make the next one due. A crash replays the log
 * since the newest checkpoint, and replaying is ~7x slower per byte than loading a checkpoint
 * (10M edges: 120 MB of log per partition in 7-8 s, its 62 MB checkpoint in ~1 s). So the
 * log is cut at a fraction of the checkpoint's size (recovery stays a bounded multiple of
 * loading the state), with a floor so that a small store is not checkpointed constantly.
 * Each checkpoint then writes at most 1/ratio bytes per byte of log.
 */
function checkpointDueBytes(): number {
  return Math.max(init.checkpointWalBytes, init.checkpointWalRatio * lastCheckpointBytes);
}

/** Start a checkpoint in the background when one is due; returns whether it started. */
function maybeCheckpoint(): boolean {
  if (!shouldCheckpoint()) return false;
  startCheckpoint().catch((err) => log('error', `checkpoint failed: ${(err as Error).message}`));
  return true;
}

/** Write a checkpoint of the committed epoch from a snapshot, yielding between slices. */
function startCheckpoint(): Promise<{ epoch: number; bytes: number } | null> {
  if (checkpointing !== null) return checkpointing;
  const run = async () => {
    const s = must(store, 'store');
    const cps = must(checkpoints, 'checkpoints');
    const epoch = committedEpoch;
    // The log up to here is what this checkpoint covers (about: groups of epochs in flight
    // count as covered too); what is logged while it is written still needs replaying.
    const covered = walBytesSinceCheckpoint;
    const meta = s.epochs.find((m) => m.epoch === epoch);
    if (meta === undefined || epoch <= checkpointEpoch) return null;
    const reader = new PartitionReader(s.descriptor);
    const snap = reader.open(epoch);
    let bytes = 0;
    // Wall time, and the time this thread spent encoding (the rest it serves other messages
    // while the writes go on): the cost a checkpoint takes from ingest, in the log line.
    const began = performance.now();
    let encodeMs = 0;
    const report = (ok: boolean): CheckpointReport => {
      const ms = Math.round(performance.now() - began);
      const r: CheckpointReport = { ok, epoch, bytes: ok ? bytes : 0, ms, encodeMs: Math.round(encodeMs) };
      port?.postMessage({ t: 'checkpoint', ...r });
      return r;
    };
    try {
      const writer = await cps.beginCheckpoint(epoch);
      try {
        let sliceStart = performance.now();
        let t = sliceStart;
        for (const rec of encodeCheckpoint(snap, meta)) {
          const frame = frameRecord(rec);
          bytes += frame.length;
          encodeMs += performance.now() - t;
          await writer.write(frame);
          t = performance.now();
          if (t - sliceStart > CHECKPOINT_SLICE_MS) {
            await yieldTurn();
            t = sliceStart = performance.now();
          }
        }
        const commit = await writer.commit();
        checkpointEpoch = epoch;
        lastCheckpointBytes = commit.bodyBytes;
        lastCheckpointAt = Date.now();
        walBytesSinceCheckpoint = Math.max(0, walBytesSinceCheckpoint - covered);
        // Keep the WAL back to the previous checkpoint: if this one proves corrupt at the next
        // start, recovery falls back to that one and needs the log since it.
        if (commit.fallbackEpoch !== null) await must(wal, 'WAL').truncateThrough(commit.fallbackEpoch);
      } catch (err) {
        await writer.abort().catch(() => undefined);
        throw err;
      }
    } catch (err) {
      checkpointRetryMs = Math.min(
        CHECKPOINT_RETRY_MAX_MS,
        Math.max(CHECKPOINT_RETRY_MIN_MS, 2 * checkpointRetryMs),
      );
      checkpointRetryAt = Date.now() + checkpointRetryMs;
      report(false);
      throw err;
    } finally {
      snap.close();
    }
    checkpointRetryMs = 0;
    checkpointRetryAt = 0;
    const r = report(true);
    log('info', `checkpoint at epoch ${epoch}: ${bytes} bytes in ${r.ms} ms (encoding ${r.encodeMs} ms)`, {
      epoch,
      bytes,
      ms: r.ms,
      encodeMs: r.encodeMs,
    });
    return { epoch, bytes };
  };
  checkpointing = run().finally(() => {
    checkpointing = null;
  });
  return checkpointing;
}

function stats(): WorkerStats {
  const s = must(store, 'store');
  const st = s.stats();
  return {
    partition: init.partition,
    epoch: s.published,
    vertices: s.vertexCount,
    edges: s.edgeTotal,
    walBytesTotal,
    walBytesSinceCheckpoint,
    lastCheckpointEpoch: checkpointEpoch,
    checkpointing: checkpointing !== null,
    memory: {
      idIndexBytes: st.idIndexBytes,
      externalKeyBytes: st.externalKeyBytes,
      adjacencyBytes: st.adjacency.extentBytes + st.adjacency.recordBytes + st.adjacency.bloomBytes,
      vertexTableBytes: st.vertexTableBytes,
      arenaGrownBytes: st.arenaGrownBytes,
      retiredPending: st.retiredPending,
      versionsPending: st.versionsPending,
    },
  };
}

/**
 * Move the retention floor, and free what it releases in steps of RECLAIM_STEP versions with
 * the worker's messages (writes, seals, reads' requests) in between. Freeing all at once
 * blocked the partition for ~250 ms per retention pass under a sustained 1M edges/s load
 * (scratch/retain-steady.mjs), and for seconds after a bulk load left the window.
 */
function retain(oldest: number): { freed: number } {
  const s = must(store, 'store');
  const freed = s.retain(oldest, RECLAIM_STEP);
  queueReclaim(s);
  return { freed };
}

/** Queue the next reclamation step when one is due and none is queued. */
function queueReclaim(s: PartitionStore): void {
  if (!s.reclaimBehind || reclaiming) return;
  reclaiming = true;
  setImmediate(() => {
    reclaiming = false;
    if (closing) return;
    s.reclaim(RECLAIM_STEP);
    queueReclaim(s);
  });
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.t) {
    case 'scan':
      return scan();
    case 'replay': {
      const r = await replay(req.skip, req.alignEpoch);
      // The interval rule is also checked while no write comes: a daemon that loads a graph and
      // then idles would otherwise never checkpoint, and replay the whole load at its next start.
      idleCheck = setInterval(maybeCheckpoint, IDLE_CHECK_MS);
      idleCheck.unref();
      return r;
    }
    case 'apply':
      return apply(req);
    case 'seal':
      return seal(req);
    case 'retain':
      return retain(req.oldest);
    case 'committed':
      committedEpoch = Math.max(committedEpoch, req.epoch);
      return { checkpoint: maybeCheckpoint() };
    case 'checkpoint':
      return startCheckpoint();
    case 'stats':
      return stats();
    case 'close': {
      closing = true;
      if (idleCheck !== null) clearInterval(idleCheck);
      if (checkpointing !== null) await checkpointing.catch(() => undefined);
      await wal?.close();
      return { epoch: store?.published ?? 0 };
    }
  }
}

port.on('message', (raw: unknown) => {
  let req: WorkerRequest;
  try {
    req = checkWorkerRequest(raw);
  } catch (err) {
    log('error', (err as Error).message);
    return;
  }
  const reply = (value: unknown) => port.postMessage({ t: 'reply', id: req.id, ok: true, value });
  const fail = (err: unknown) =>
    port.postMessage({ t: 'reply', id: req.id, ok: false, error: toErrorData(err) });
  try {
    // apply and retain are synchronous: reply in the same turn so ordering stays obvious.
    if (req.t === 'apply') reply(apply(req));
    else handle(req).then(reply, fail);
  } catch (err) {
    fail(err);
  }
});
