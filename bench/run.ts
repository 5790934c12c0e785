/**
 * `npm run bench [-- name...]`: runs benchmark modules from bench/ (each exports
 * `run({ quick })`, prints a table and writes bench/results/<name>.json). BENCH_QUICK=1 runs
 * scaled-down versions. Benchmarks are never part of `npm test`.
 */
const ALL = [
  'storage',
  'insert-floor',
  'ingest',
  'wal',
  'meta',
  'analytics-kernels',
  'analytics',
  'api',
  'v8-loops',
];

interface BenchModule {
  run(opts: { quick: boolean }): Promise<Record<string, number>>;
}

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const quick = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const selected = names.length > 0 ? names : ALL;
for (const name of selected) {
  if (!/^[a-z0-9-]+$/.test(name)) {
    console.error(`unknown benchmark "${name}"`);
    process.exit(2);
  }
  let mod: BenchModule;
  try {
    mod = (await import(`./${name}.js`)) as BenchModule;
  } catch (err) {
    console.error(`cannot load benchmark "${name}": ${(err as Error).message}`);
    process.exit(2);
  }
  const t0 = performance.now();
  await mod.run({ quick });
  console.log(`  (${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s${quick ? ', quick' : ''})`);
}
