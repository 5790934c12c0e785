/**
 * Ingest through the machine (real partition workers, WAL, fsync), P = 2 on this 2-core box:
 *  - durableEdgesPerSec: columnar bulk batches, several in flight, counted when acknowledged
 *    (sealed, fsynced on every partition, visible);
 *  - durableEdgesPerSecReclaiming: the same with retention at 200 ms, so the workers reclaim
 *    old versions as they go (a daemon under sustained load past its retainMs, 60 s by
 *    default, does this; the run above is too short to);
 *  - freshness: from submit until the edge is visible to a reader, at 50 ms and 10 ms epochs,
 *    under a light steady load (p50, p99);
 *  - recovery of a 10M-edge store: from its checkpoint (plus the WAL since), from the WAL
 *    alone for comparison, and right after the load with the default checkpoint policy (what
 *    a crash at the end of a bulk load recovers from: the checkpoints the load triggered plus
 *    the log since the newest; close() takes no checkpoint of its own).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Machine } from '../partitions/machine.js';
import { percentile, report, rng } from './report.js';

const BATCH = 50_000;
const IN_FLIGHT = 4;

async function dataDir(): Promise<string> {
  return mkdtemp(path.join(process.env.BENCH_TMP ?? os.tmpdir(), 'epochgraph-bench-'));
}

function batchOf(r: (n: number) => number, n: number, size: number) {
  const src = new Float64Array(size);
  const dst = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    src[i] = r(n);
    dst[i] = r(n);
  }
  return { ops: [], edges: { src, dst } };
}

/** Load `edges` random edges over `n` vertices; returns acknowledged edges per second. */
async function load(m: Machine, n: number, edges: number, seed: number): Promise<number> {
  const r = rng(seed);
  const pending = new Set<Promise<unknown>>();
  const t0 = performance.now();
  for (let done = 0; done < edges; done += BATCH) {
    const p = m.submit(batchOf(r, n, Math.min(BATCH, edges - done)));
    pending.add(p);
    void p.finally(() => pending.delete(p));
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
  return edges / ((performance.now() - t0) / 1000);
}

async function freshness(epochMs: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const dir = await dataDir();
  const m = await Machine.open({ dataDir: dir, partitions: 2, epochMs });
  try {
    const r = rng(99);
    const samples: number[] = [];
    const end = performance.now() + seconds * 1000;
    const inflight: Promise<void>[] = [];
    let k = 0;
    while (performance.now() < end) {
      const src = 10_000_000 + k++;
      const dst = r(1_000_000);
      const t0 = performance.now();
      inflight.push(
        m.submit({ ops: [{ op: 'upsertEdge', src, dst }] }).then((ack) => {
          // The acknowledgement comes once the epoch is visible: confirm a reader sees it.
          const s = m.snapshot(ack.epoch);
          try {
            if (!(s.neighbors(src)?.neighbors ?? []).includes(dst))
              throw new Error('acknowledged edge not visible');
          } finally {
            s.close();
          }
          samples.push(performance.now() - t0);
        }),
      );
      // ~200 writes/s, spread over the epoch so arrival phases are uniform.
      await new Promise((res) => setTimeout(res, 5));
    }
    await Promise.all(inflight);
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    await m.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Open the machine in `dir` (recovery), timed; returns it open and the seconds it took. */
async function timedOpen(dir: string): Promise<{ m: Machine; seconds: number }> {
  const t0 = performance.now();
  const m = await Machine.open({ dataDir: dir, partitions: 2 });
  return { m, seconds: (performance.now() - t0) / 1000 };
}

async function recovery(edges: number): Promise<{
  fromCheckpoint: number;
  walOnly: number;
  afterLoad: number;
  loadRate: number;
  loadRateDefault: number;
}> {
  const n = Math.max(1000, edges / 10);
  // WAL only: no checkpoint is ever taken.
  const dirA = await dataDir();
  let m = await Machine.open({
    dataDir: dirA,
    partitions: 2,
    checkpointWalBytes: 2 ** 50,
    checkpointIntervalMs: 2 ** 40,
  });
  const loadRate = await load(m, n, edges, 1);
  await m.close();
  const walOnlyOpen = await timedOpen(dirA);
  await walOnlyOpen.m.checkpoint();
  await walOnlyOpen.m.close();
  // From the checkpoint just taken.
  const checkpointOpen = await timedOpen(dirA);
  m = checkpointOpen.m;
  const s = m.snapshot();
  const p0 = s.partition(0);
  s.close();
  if (p0 === undefined) throw new Error('no partition');
  await m.close();
  await rm(dirA, { recursive: true, force: true });
  // Default policy: checkpoints happen during the load.
  const dirB = await dataDir();
  m = await Machine.open({ dataDir: dirB, partitions: 2 });
  const loadRateDefault = await load(m, n, edges, 1);
  await m.close();
  const afterLoadOpen = await timedOpen(dirB);
  await afterLoadOpen.m.close();
  await rm(dirB, { recursive: true, force: true });
  return {
    fromCheckpoint: checkpointOpen.seconds,
    walOnly: walOnlyOpen.seconds,
    afterLoad: afterLoadOpen.seconds,
    loadRate,
    loadRateDefault,
  };
}

/** Durable ingest rate into a fresh 2-partition machine (50 ms epochs), with its retention. */
async function durableRate(edges: number, retainMs?: number): Promise<number> {
  const dir = await dataDir();
  const m = await Machine.open({ dataDir: dir, partitions: 2, epochMs: 50, retainMs });
  const rate = await load(m, edges / 10, edges, 7);
  await m.close();
  await rm(dir, { recursive: true, force: true });
  return rate;
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, number>> {
  const edges = quick ? 1_000_000 : 5_000_000;
  const durableEdgesPerSec = await durableRate(edges);
  const durableEdgesPerSecReclaiming = await durableRate(edges, 200);

  const f50 = await freshness(50, quick ? 3 : 8);
  const f10 = await freshness(10, quick ? 3 : 8);
  const rec = await recovery(quick ? 1_000_000 : 10_000_000);

  return report('ingest', [
    {
      metric: 'durableEdgesPerSec',
      value: durableEdgesPerSec,
      unit: 'edges/s',
      target: '≥ 1M',
      ok: durableEdgesPerSec >= 1e6,
    },
    { metric: 'durableEdgesPerSecReclaiming', value: durableEdgesPerSecReclaiming, unit: 'edges/s' },
    { metric: 'freshnessP50Ms', value: f50.p50, unit: 'ms' },
    { metric: 'freshnessP99Ms', value: f50.p99, unit: 'ms', target: '≤ 60', ok: f50.p99 <= 60 },
    { metric: 'freshnessP50Ms10', value: f10.p50, unit: 'ms' },
    { metric: 'freshnessP99Ms10', value: f10.p99, unit: 'ms', target: '≤ 20', ok: f10.p99 <= 20 },
    {
      metric: 'recoverySeconds10M',
      value: rec.fromCheckpoint,
      unit: 's',
      target: '≤ 5',
      ok: rec.fromCheckpoint <= 5,
    },
    { metric: 'recoveryWalOnlySeconds10M', value: rec.walOnly, unit: 's' },
    {
      metric: 'recoveryAfterLoadSeconds10M',
      value: rec.afterLoad,
      unit: 's',
      target: '≤ 5',
      ok: rec.afterLoad <= 5,
    },
    { metric: 'recoveryEdges', value: quick ? 1_000_000 : 10_000_000 },
    { metric: 'loadEdgesPerSecNoCheckpoint', value: rec.loadRate, unit: 'edges/s' },
    { metric: 'loadEdgesPerSecDefaultCheckpoints', value: rec.loadRateDefault, unit: 'edges/s' },
  ]);
}
