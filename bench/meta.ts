/**
 * Metadata publish lag: the time from `store.publish()` (what a seal calls) until an etcd
 * watcher sees both partitions' `gart_latest_epoch_p{p}` at that epoch, i.e. until a reader
 * of etcd could act on it. Measured against a real etcd started for the run, next to a
 * baseline in the same run: a bare etcd3 txn of the same keys, seen through the same watch.
 * The ratio is the publisher's own overhead (coalescing queue, CAS), independent of the box.
 *
 * Target (DESIGN.md §6, freshness at 10 ms epochs): publishLagP99Ms ≤ 20.
 *
 * Run: `node dist/bench/meta.js [--quick]` after `npm run build`, or through the bench runner.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { launchEtcd } from '../meta/etcd-launcher.js';
import { silentLogger } from '../meta/logger.js';
import { createEtcdMetadataStore } from '../meta/metadata-store.js';

const PARTITIONS = [0, 1] as const;
const PREFIX = 'bench_meta_';
/** Seal interval of the run: the 10 ms epochs of the strictest freshness target. */
const SEAL_INTERVAL_MS = 10;
const TARGET_P99_MS = 20;
/** How long to wait for one epoch to show up before calling the run broken. */
const SEEN_TIMEOUT_MS = 5000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves `waitFor(e)` once a watcher has seen every partition's latest key reach epoch e. */
class LatestWatch {
  private readonly seen = new Map<number, number>();
  private waiting: { epoch: number; resolve: () => void } | null = null;

  onPut(key: string, value: string): void {
    const m = /_p(\d+)$/.exec(key);
    if (m === null) return;
    this.seen.set(Number(m[1]), Number(value));
    if (this.waiting !== null && this.reached(this.waiting.epoch)) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve();
    }
  }

  waitFor(epoch: number): Promise<void> {
    if (this.reached(epoch)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`epoch ${epoch} not seen in ${SEEN_TIMEOUT_MS} ms`)),
        SEEN_TIMEOUT_MS,
      );
      this.waiting = {
        epoch,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  private reached(epoch: number): boolean {
    return PARTITIONS.every((p) => (this.seen.get(p) ?? -1) >= epoch);
  }
}

/** Runs the metadata benchmark; returns the figures written to bench/results/meta.json. */
export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const epochs = opts.quick ? 200 : 2000;
  const etcd = await launchEtcd({ preferDefaultPorts: false });
  const watcherClient = new Etcd3({ hosts: [...etcd.endpoints] });
  const baselineClient = new Etcd3({ hosts: [...etcd.endpoints] });
  const store = createEtcdMetadataStore({ endpoints: etcd.endpoints, prefix: PREFIX, logger: silentLogger });
  try {
    const watch = new LatestWatch();
    const watcher = await watcherClient.watch().prefix(`${PREFIX}gart_latest_epoch_p`).create();
    watcher.on('put', (kv) => watch.onPut(kv.key.toString(), kv.value.toString()));
    const baseWatch = new LatestWatch();
    const baseWatcher = await watcherClient.watch().prefix(`base_${PREFIX}gart_latest_epoch_p`).create();
    baseWatcher.on('put', (kv) => baseWatch.onPut(kv.key.toString(), kv.value.toString()));

    // Warm up both paths (connections, etcd's first writes) outside the measurement.
    for (let e = 1; e <= 20; e++) {
      store.publish(stateAt(e));
      await watch.waitFor(e);
    }
    const lag: number[] = [];
    const base: number[] = [];
    const t0 = performance.now();
    for (let i = 1; i <= epochs; i++) {
      const epoch = 20 + i;
      const tick = performance.now();
      store.publish(stateAt(epoch));
      await watch.waitFor(epoch);
      lag.push(performance.now() - tick);

      // Baseline: the same keys and values in one bare txn, no publisher in between.
      const b0 = performance.now();
      await baselineTxn(baselineClient, epoch);
      await baseWatch.waitFor(epoch);
      base.push(performance.now() - b0);

      const spent = performance.now() - tick;
      if (spent < SEAL_INTERVAL_MS) await sleep(SEAL_INTERVAL_MS - spent);
    }
    const seconds = (performance.now() - t0) / 1000;
    await store.flush();
    await watcher.cancel();
    await baseWatcher.cancel();

    lag.sort((a, b) => a - b);
    base.sort((a, b) => a - b);
    const commit = [...store.stats().lagSamplesMs].sort((a, b) => a - b);
    const results: Record<string, number> = {
      epochs,
      partitions: PARTITIONS.length,
      sealIntervalMs: SEAL_INTERVAL_MS,
      publishLagP50Ms: round(percentile(lag, 50)),
      publishLagP99Ms: round(percentile(lag, 99)),
      publishLagMaxMs: round(lag.at(-1) ?? Number.NaN),
      baselineTxnWatchP50Ms: round(percentile(base, 50)),
      baselineTxnWatchP99Ms: round(percentile(base, 99)),
      publishOverBaselineP50: round(percentile(lag, 50) / percentile(base, 50)),
      commitLagP99MsLast256: round(percentile(commit, 99)),
      casConflicts: store.stats().casConflicts,
      epochsPerSecond: round(epochs / seconds),
      targetP99Ms: TARGET_P99_MS,
      meetsTarget: percentile(lag, 99) <= TARGET_P99_MS ? 1 : 0,
    };
    printTable(results);
    await mkdir(join(process.cwd(), 'bench', 'results'), { recursive: true });
    await writeFile(
      join(process.cwd(), 'bench', 'results', 'meta.json'),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    return results;
  } finally {
    await store.close({ flushTimeoutMs: 1000 });
    watcherClient.close();
    baselineClient.close();
    await etcd.dispose();
  }
}

function stateAt(epoch: number) {
  return {
    machine: 0,
    fnum: PARTITIONS.length,
    endpoint: 'http://127.0.0.1:7070',
    partitions: PARTITIONS.map((partition) => ({
      partition,
      epoch,
      vertices: epoch,
      edges: epoch,
      sealedAtMs: Date.now(),
    })),
  };
}

async function baselineTxn(client: Etcd3, epoch: number): Promise<void> {
  await client.kv.txn({
    compare: [],
    success: PARTITIONS.flatMap((p) => [
      {
        request_put: {
          key: Buffer.from(`base_${PREFIX}gart_blob_m0_p${p}_e${epoch}`),
          value: Buffer.from('{}'),
        },
      },
      {
        request_put: {
          key: Buffer.from(`base_${PREFIX}gart_latest_epoch_p${p}`),
          value: Buffer.from(String(epoch)),
        },
      },
    ]),
    failure: [],
  });
}

function printTable(results: Record<string, number>): void {
  const width = Math.max(...Object.keys(results).map((k) => k.length));
  console.log('metadata publish benchmark (real etcd, watch-observed)');
  for (const [k, v] of Object.entries(results))
    console.log(`  ${k.padEnd(width)}  ${String(v).padStart(12)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({ quick: process.argv.includes('--quick') });
}
