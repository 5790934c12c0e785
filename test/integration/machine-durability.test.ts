/**
 * Durability of the machine: a torn WAL tail on one partition drops that epoch on every
 * partition (no partial batch); a corrupt newest checkpoint falls back to the previous one plus
 * the WAL; a failing backup dir fails writes with BACKUP_UNAVAILABLE and nothing is acknowledged
 * that is not durable in both places; a failed automatic checkpoint waits before the next try;
 * a full ingest queue answers NOT_READY.
 */
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_HEADER_BYTES, checkpointFileName } from '../../partitions/checkpoint-format.js';
import { partitionPaths } from '../../partitions/data-dir.js';
import { Machine, type MachineOptions } from '../../partitions/machine.js';
import { partitionOf } from '../../src/model/ids.js';
import type { Op } from '../../src/model/ops.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function machine(dir: string, extra: Partial<MachineOptions> = {}) {
  return Machine.open({ dataDir: dir, partitions: 2, epochMs: 10, limits: LIMITS, ...extra });
}

/** Two ids owned by different partitions. */
function crossPair(seed: number): [number, number] {
  let a = seed;
  while (partitionOf(a, 2) !== 0) a++;
  let b = a + 1;
  while (partitionOf(b, 2) !== 1) b++;
  return [a, b];
}

/** Checkpoint files of partition 0 (none when the directory does not exist yet). */
async function checkpointFiles(dataDir: string): Promise<string[]> {
  const names = await readdir(partitionPaths(dataDir, 0).checkpoints).catch(() => []);
  return names.filter((f) => f.endsWith('.ckpt'));
}

function edgeOps(k: number): Op[] {
  const [a, b] = crossPair(k * 1000);
  return [
    { op: 'upsertEdge', src: a, dst: b, props: { k } },
    { op: 'upsertEdge', src: b, dst: a, props: { k } },
  ];
}

function hasBatch(m: Machine, k: number): [boolean, boolean] {
  const [a, b] = crossPair(k * 1000);
  const s = m.snapshot();
  try {
    return [(s.neighbors(a)?.neighbors ?? []).includes(b), (s.neighbors(b)?.neighbors ?? []).includes(a)];
  } finally {
    s.close();
  }
}

async function lastSegment(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
  return path.join(dir, files[files.length - 1]);
}

describe('machine durability', () => {
  it('drops a torn last epoch on every partition, keeps the rest, and goes on', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    let m = await machine(dir.path);
    for (let k = 0; k < 5; k++) await m.submit({ ops: edgeOps(k) });
    const last = await m.submit({ ops: edgeOps(5) });
    await m.close();
    // Cut partition 0's log inside its last group: that epoch is now missing on p0 only.
    const seg = await lastSegment(partitionPaths(dir.path, 0).wal);
    await truncate(seg, (await stat(seg)).size - 7);
    m = await machine(dir.path);
    cleanups.push(() => m.close());
    for (let k = 0; k < 5; k++) expect(hasBatch(m, k)).toEqual([true, true]);
    // Never half a batch: the edge stored on p1 is gone too.
    expect(hasBatch(m, 5)).toEqual([false, false]);
    // Numbering continues past the torn epoch; writes work.
    const next = await m.submit({ ops: edgeOps(6) });
    expect(next.epoch).toBeGreaterThan(last.epoch);
    expect(hasBatch(m, 6)).toEqual([true, true]);
  });

  it('falls back to the previous checkpoint plus the WAL when the newest checkpoint is corrupt', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    let m = await machine(dir.path, { checkpointWalBytes: 1 << 30, checkpointIntervalMs: 1 << 30 });
    for (let k = 0; k < 3; k++) await m.submit({ ops: edgeOps(k) });
    await m.checkpoint();
    for (let k = 3; k < 6; k++) await m.submit({ ops: edgeOps(k) });
    await m.checkpoint();
    for (let k = 6; k < 8; k++) await m.submit({ ops: edgeOps(k) });
    await m.close();
    const cpDir = partitionPaths(dir.path, 0).checkpoints;
    const cps = (await readdir(cpDir)).filter((f) => f.endsWith('.ckpt')).sort();
    expect(cps.length).toBe(2);
    const newest = path.join(cpDir, cps[cps.length - 1]);
    const bytes = await readFile(newest);
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(newest, bytes);
    m = await machine(dir.path);
    cleanups.push(() => m.close());
    for (let k = 0; k < 8; k++) expect(hasBatch(m, k), `batch ${k}`).toEqual([true, true]);
  });

  it('can checkpoint right after a restart that replayed the WAL, so the next start needs no replay', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const noAuto = { checkpointWalBytes: 1 << 30, checkpointIntervalMs: 1 << 30 };
    let m = await machine(dir.path, noAuto);
    for (let k = 0; k < 4; k++) await m.submit({ ops: edgeOps(k) });
    await m.close();
    const ckpts = () => checkpointFiles(dir.path);
    expect(await ckpts()).toEqual([]);
    // Restart: the state comes from the WAL alone; no write follows.
    m = await machine(dir.path, noAuto);
    const recovered = m.latestEpoch;
    await m.checkpoint();
    const files = await ckpts();
    expect(files.length).toBe(1);
    expect(Number(files[0].match(/(\d+)\.ckpt$/)?.[1])).toBe(recovered);
    await m.close();
    m = await machine(dir.path, noAuto);
    cleanups.push(() => m.close());
    expect(m.latestEpoch).toBe(recovered);
    for (let k = 0; k < 4; k++) expect(hasBatch(m, k), `batch ${k}`).toEqual([true, true]);
  });

  it('checkpoints an idle daemon once the checkpoint interval has passed since its last write', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await machine(dir.path, { checkpointWalBytes: 1 << 30, checkpointIntervalMs: 1500 });
    cleanups.push(() => m.close());
    const ack = await m.submit({ ops: edgeOps(0) });
    const ckpts = () => checkpointFiles(dir.path);
    expect(await ckpts()).toEqual([]);
    // No more writes: the worker's own timer must notice that the interval has passed.
    const deadline = Date.now() + 10_000;
    while ((await ckpts()).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const files = await ckpts();
    expect(files.length).toBe(1);
    expect(Number(files[0].match(/(\d+)\.ckpt$/)?.[1])).toBe(ack.epoch);
  });

  it('makes a checkpoint due after max(checkpointWalBytes, ratio x the last checkpoint) of WAL', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const floor = 4 << 10;
    const ratio = 2;
    const m = await machine(dir.path, {
      checkpointWalBytes: floor,
      checkpointWalRatio: ratio,
      checkpointIntervalMs: 1 << 30,
    });
    cleanups.push(() => m.close());
    const edges = (from: number, n: number) => {
      const src = new Float64Array(n);
      const dst = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        src[i] = from + i;
        dst[i] = from + i + 7;
      }
      return { ops: [], edges: { src, dst } };
    };
    await m.submit(edges(0, 5000));
    await m.checkpoint();
    const p0 = async () => (await m.stats()).partitions[0];
    const base = await p0();
    const file = path.join(
      partitionPaths(dir.path, 0).checkpoints,
      checkpointFileName(base.lastCheckpointEpoch),
    );
    const due = ratio * ((await stat(file)).size - CHECKPOINT_HEADER_BYTES);
    expect(due).toBeGreaterThan(8 * floor);
    // Trickle writes: no checkpoint while the log since the last one is below `due` (a fixed
    // threshold would have taken one past `floor`), then one as soon as a write crosses it.
    let before = 0;
    let step = 0;
    let triggered = false;
    for (let k = 0; k < 400 && !triggered; k++) {
      await m.submit(edges(10_000 + k * 100, 100));
      const s = await p0();
      triggered = s.checkpointing || s.lastCheckpointEpoch !== base.lastCheckpointEpoch;
      if (!triggered) {
        step = s.walBytesSinceCheckpoint - before;
        before = s.walBytesSinceCheckpoint;
      }
    }
    expect(triggered).toBe(true);
    expect(before).toBeGreaterThan(2 * floor);
    expect(before).toBeLessThan(due);
    expect(before + 2 * step).toBeGreaterThanOrEqual(due);
  });

  it('fails writes with BACKUP_UNAVAILABLE while the backup is broken, and recovers when it is back', async () => {
    const dir = await tempDir();
    const backup = await tempDir();
    cleanups.push(dir.remove, backup.remove);
    const m = await machine(dir.path, { backupDir: backup.path });
    cleanups.push(() => m.close());
    await m.submit({ ops: edgeOps(0) });
    // Break partition 0's backup WAL dir: replace it with a file.
    const bwal = partitionPaths(backup.path, 0).wal;
    await rm(bwal, { recursive: true, force: true });
    await writeFile(bwal, 'not a directory');
    await expect(m.submit({ ops: edgeOps(1) })).rejects.toMatchObject({ code: 'BACKUP_UNAVAILABLE' });
    // The primary has it (a restart would replay it), and readers see exactly what a restart
    // would rebuild; it was never acknowledged.
    expect(hasBatch(m, 1)).toEqual([true, true]);
    // Backup back: writes are acknowledged again.
    await rm(bwal, { force: true });
    await mkdir(bwal, { recursive: true });
    const ok = await m.submit({ ops: edgeOps(2) });
    expect(ok.epoch).toBeGreaterThan(0);
    expect(hasBatch(m, 2)).toEqual([true, true]);
  });

  it('waits before trying a failed automatic checkpoint again, instead of at every commit', async () => {
    const dir = await tempDir();
    const backup = await tempDir();
    cleanups.push(dir.remove, backup.remove);
    // A checkpoint is due after every commit.
    const m = await machine(dir.path, {
      backupDir: backup.path,
      checkpointWalBytes: 1,
      checkpointIntervalMs: 1 << 30,
    });
    cleanups.push(() => m.close());
    const reports: { partition: number; ok: boolean }[] = [];
    m.onCheckpoint((partition, r) => reports.push({ partition, ok: r.ok }));
    await m.submit({ ops: edgeOps(0) });
    // No checkpoint in flight (the commit started one, which could make the dir again).
    await m.checkpoint();
    // Break partition 0's backup checkpoint dir: its checkpoints fail, its writes do not.
    const bck = partitionPaths(backup.path, 0).checkpoints;
    await rm(bck, { recursive: true, force: true });
    await writeFile(bck, 'not a directory');
    const failed0 = () => reports.filter((r) => r.partition === 0 && !r.ok).length;
    const t0 = Date.now();
    let k = 1;
    while (Date.now() - t0 < 1500) await m.submit({ ops: edgeOps(k++) });
    // One failure, then 1 s without trying, then perhaps a second: not one per commit.
    expect(k).toBeGreaterThan(20);
    expect(failed0()).toBeGreaterThanOrEqual(1);
    expect(failed0()).toBeLessThanOrEqual(2);
    expect(reports.some((r) => r.partition === 1 && r.ok)).toBe(true);
    // Back: a later try (after the wait) succeeds.
    await rm(bck, { force: true });
    await mkdir(bck, { recursive: true });
    const t1 = Date.now();
    while (!reports.some((r) => r.partition === 0 && r.ok) && Date.now() - t1 < 10_000) {
      await m.submit({ ops: edgeOps(k++) });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reports.some((r) => r.partition === 0 && r.ok)).toBe(true);
  });

  it('answers NOT_READY when the ingest queue stays full', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await machine(dir.path, { maxQueuedBatches: 2, queueTimeoutMs: 20, epochMs: 200 });
    cleanups.push(() => m.close());
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, k) => m.submit({ ops: edgeOps(k) })),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_READY' });
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
  });
});
