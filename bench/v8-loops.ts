/**
 * What V8 (Node 20) makes of the loop shapes the storage kernels choose between, measured side
 * by side in one run: the figures behind the comments in storage/gather-kernels.ts and
 * api/heavy-reads.ts.
 *
 * - A random key gather, out[i] = keys[lids[i]] over 1M entries into 200K keys (the CSR
 *   export's and batch reads' key mapping): typed arrays as arguments in a plain loop, the
 *   storage kernel keysOfLids (the same loop unrolled by 8), and the same loop over
 *   module-level const arrays. In a loop, V8
 *   checks each argument array's map and reloads its data pointer at every access; a const
 *   array's checks fold away; unrolled, they are paid once per 8 entries.
 * - Copying 1M neighbour ids laid out back to back: list by list (100K lists of 10, a loop
 *   each), in one flat loop, and with one TypedArray.set (the gather's runs).
 *
 * Run: `npm run bench -- v8-loops`.
 */
import { pathToFileURL } from 'node:url';
import { keysOfLids } from '../src/storage/gather-kernels.js';
import { percentile, report } from './report.js';

const KEYS = 200_000;
const N = 1 << 20;
const LIST = 10;

const constKeys = new Float64Array(KEYS);
const constLids = new Uint32Array(N);
const constOut = new Float64Array(N);

function fill(): void {
  for (let i = 0; i < KEYS; i++) constKeys[i] = i * 7 + 3;
  let s = 12345;
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    constLids[i] = s % KEYS;
  }
}

function gatherArgs(lids: Uint32Array, keys: Float64Array, out: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) out[j] = keys[lids[j]];
}

function gatherConst(): void {
  for (let j = 0; j < N; j++) constOut[j] = constKeys[constLids[j]];
}

function copyByList(src: Uint32Array, out: Uint32Array): void {
  let w = 0;
  for (let r = 0; r < N / LIST; r++) {
    const o = r * LIST;
    for (let j = 0; j < LIST; j++) out[w++] = src[o + j];
  }
}

function copyFlat(src: Uint32Array, out: Uint32Array): void {
  for (let j = 0; j < N; j++) out[j] = src[j];
}

/** The median of `rounds` timings (ms) of each arm, arms alternating within each round. */
function race(arms: Record<string, () => void>, rounds: number): Record<string, number> {
  const times: Record<string, number[]> = {};
  for (const k of Object.keys(arms)) times[k] = [];
  const names = Object.keys(arms);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const k of order) {
      const t0 = performance.now();
      arms[k]();
      times[k].push(performance.now() - t0);
    }
  }
  const out: Record<string, number> = {};
  // The first rounds run while V8 is still compiling the arms.
  for (const k of names) out[k] = percentile(times[k].slice(Math.min(5, rounds >> 1)), 50);
  return out;
}

/** Runs the loop-shape benchmark; returns the figures written to bench/results/v8-loops.json. */
export async function run({ quick }: { quick: boolean }): Promise<Record<string, number>> {
  fill();
  const rounds = quick ? 15 : 41;
  const out = new Float64Array(N);
  const g = race(
    {
      args: () => gatherArgs(constLids, constKeys, out, N),
      unrolled: () => keysOfLids(constLids, 0, N, constKeys, out, 0),
      consts: gatherConst,
    },
    rounds,
  );
  for (let i = 0; i < N; i += 4099) {
    if (out[i] !== constOut[i]) throw new Error('v8-loops: the gathers disagree');
  }
  const ids = new Uint32Array(N);
  ids.set(constLids);
  const copied = new Uint32Array(N);
  const c = race(
    {
      byList: () => copyByList(ids, copied),
      flat: () => copyFlat(ids, copied),
      set: () => copied.set(ids),
    },
    rounds,
  );
  return report('v8-loops', [
    { metric: 'keyGatherArgsMs', value: g.args, unit: 'ms' },
    { metric: 'keyGatherArgsUnrolledMs', value: g.unrolled, unit: 'ms' },
    { metric: 'keyGatherConstMs', value: g.consts, unit: 'ms' },
    { metric: 'keyGatherArgsVsUnrolled', value: g.args / g.unrolled, unit: '×' },
    { metric: 'copyByListMs', value: c.byList, unit: 'ms' },
    { metric: 'copyFlatMs', value: c.flat, unit: 'ms' },
    { metric: 'copySetMs', value: c.set, unit: 'ms' },
    { metric: 'copyByListVsFlat', value: c.byList / c.flat, unit: '×' },
    { metric: 'entries', value: N },
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({ quick: process.argv.includes('--quick') });
}
