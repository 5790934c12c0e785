/**
 * Same-process A/B of two builds of the storage engine: a developer tool, not one of
 * `npm run bench`'s benchmarks. `npm run ab -- insert|seal OLD_DIST NEW_DIST`, where each
 * DIST is a build of the commit to compare (`npx tsc -p tsconfig.build.json --outDir DIR`,
 * for example in a `git worktree`).
 *
 * Two stores, one per build, get the same work in turns; then the whole run is repeated with
 * the builds created in the other order. In one process the second store created runs ~5%
 * faster (an A/A run shows it: pass the same DIST twice), so one order alone misreports a
 * change by about that much. The ratio printed is new/old, the geometric mean of both orders.
 *  - insert: unique edges in random order (AB_VERTICES vertices, default 1M, 10 edges each)
 *    in 50K-edge epochs, apply + seal;
 *  - seal: after that load, AB_ROUNDS (default 400) epochs of 5K random edge updates, each
 *    sealed and followed by retention of the last 20 epochs: seal, apply and retain times.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PartitionStore } from '../src/storage/index.js';
import { percentile, rng } from './report.js';
import { randomUpdates, uniqueEdges, updateEpoch, WARMUP_ROUNDS } from './storage.js';

type StoreClass = typeof PartitionStore;
type Edges = { src: Uint32Array; dst: Uint32Array };

const VERTICES = Number(process.env.AB_VERTICES ?? 1_000_000);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 400);
const BATCH = 50_000;

async function storeClass(dist: string): Promise<StoreClass> {
  const url = pathToFileURL(path.resolve(dist, 'src', 'storage', 'index.js')).href;
  return ((await import(url)) as { PartitionStore: StoreClass }).PartitionStore;
}

/** Load `edges` into both stores in turns (the first store first in even epochs); ms each. */
function load(stores: PartitionStore[], edges: Edges): number[] {
  const ms = [0, 0];
  for (let i = 0, e = 0; i < edges.src.length; i += BATCH, e++) {
    const batch = { src: edges.src.subarray(i, i + BATCH), dst: edges.dst.subarray(i, i + BATCH) };
    for (const k of e % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      stores[k].apply({ ops: [], edges: batch });
      stores[k].seal();
      ms[k] += performance.now() - t0;
    }
  }
  return ms;
}

interface Times {
  seal: number[];
  apply: number[];
  retain: number[];
}

/** The storage bench's update epochs on both stores in turns (after its warm-up rounds). */
function rounds(stores: PartitionStore[]): Times[] {
  const r = rng(7);
  const out: Times[] = [0, 1].map(() => ({ seal: [], apply: [], retain: [] }));
  for (let k = 0; k < WARMUP_ROUNDS + ROUNDS; k++) {
    const u = randomUpdates(VERTICES, r);
    for (const s of k % 2 === 0 ? [0, 1] : [1, 0]) {
      const t = updateEpoch(stores[s], u);
      if (k < WARMUP_ROUNDS) continue;
      out[s].apply.push(t.apply);
      out[s].seal.push(t.seal);
      out[s].retain.push(t.retain);
    }
  }
  return out;
}

const fmt = (x: number) => x.toFixed(3);
const stat = (xs: number[]) => `p50 ${fmt(percentile(xs, 50))} p99 ${fmt(percentile(xs, 99))}`;

async function main(): Promise<void> {
  const [mode, oldDist, newDist] = process.argv.slice(2);
  if ((mode !== 'insert' && mode !== 'seal') || oldDist === undefined || newDist === undefined) {
    console.error('usage: npm run ab -- insert|seal OLD_DIST NEW_DIST');
    process.exit(2);
  }
  const builds = { old: await storeClass(oldDist), new: await storeClass(newDist) };
  const edges = uniqueEdges({ n: VERTICES, degree: 10 }, 1);
  const ratios: number[] = [];
  for (const order of [['old', 'new'] as const, ['new', 'old'] as const]) {
    const stores = order.map((b) => builds[b].create());
    const loadMs = load(stores, edges);
    const at = (b: 'old' | 'new') => order.indexOf(b);
    if (mode === 'insert') {
      for (const b of order) {
        const ms = loadMs[at(b)];
        console.log(`${order.join(' then ')}: ${b} ${((edges.src.length / ms) * 1e3).toFixed(0)} edges/s`);
      }
      ratios.push(loadMs[at('old')] / loadMs[at('new')]);
    } else {
      const t = rounds(stores);
      for (const b of order) {
        const x = t[at(b)];
        console.log(
          `${order.join(' then ')}: ${b} seal ${stat(x.seal)} | apply ${stat(x.apply)} | retain ${stat(x.retain)} ms`,
        );
      }
      ratios.push(percentile(t[at('new')].seal, 50) / percentile(t[at('old')].seal, 50));
    }
  }
  const what = mode === 'insert' ? 'insert rate' : 'seal p50';
  console.log(
    `new/old ${what}: ${fmt(Math.sqrt(ratios[0] * ratios[1]))} (${ratios.map(fmt).join(', ')} by order)`,
  );
}

await main();
