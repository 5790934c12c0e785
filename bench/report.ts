/** Shared benchmark output: a printed table and a flat JSON object in bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');

/**
 * One back-to-back pair for a ratio: runs `a` and `b` in turn, `a` first when `aFirst`, and
 * returns their results as [a, b]. Callers alternate `aFirst` so that neither arm always gets
 * the warmer (or colder) moment of this VM.
 */
export function inTurn<A, B>(aFirst: boolean, a: () => A, b: () => B): [A, B] {
  if (aFirst) {
    const ra = a();
    return [ra, b()];
  }
  const rb = b();
  return [a(), rb];
}

export interface Row {
  metric: string;
  value: number;
  unit?: string;
  target?: string;
  ok?: boolean;
}

export function report(
  name: string,
  rows: Row[],
  extra: Record<string, number | string> = {},
): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const r of rows) flat[r.metric] = Number(r.value.toPrecision(6));
  const w = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n${name}`);
  for (const r of rows) {
    const status = r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED';
    const target = r.target ? `  (target ${r.target})` : '';
    console.log(`  ${r.metric.padEnd(w)}  ${fmt(r.value).padStart(12)} ${r.unit ?? ''}${target}${status}`);
  }
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ ...flat, ...extra }, null, 2)}\n`);
  console.log(`  -> ${path.relative(process.cwd(), file)}`);
  return flat;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return v.toFixed(0);
  return v.toPrecision(4);
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * The latest epoch once a machine has sealed nothing for `quietMs`: acknowledged writes are
 * published and its workers are idle (idle compaction finished), so a measurement neither
 * shares the cores with them nor reads an epoch that later seals move blocks away from.
 */
export async function settled(machine: { readonly latestEpoch: number }, quietMs: number): Promise<number> {
  let last = machine.latestEpoch;
  let since = performance.now();
  while (performance.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 20));
    if (machine.latestEpoch !== last) {
      last = machine.latestEpoch;
      since = performance.now();
    }
  }
  return last;
}

/** Deterministic PRNG (xorshift32) for reproducible inputs (shared with the tests). */
export { rng } from '../test/helpers/rng.js';
