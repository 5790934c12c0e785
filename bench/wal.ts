/**
 * WAL micro-benchmark: sealed group-commit throughput, fdatasync latency, recovery read speed
 * and CRC32C speed. Each seal is measured next to a plain write + fdatasync of the same bytes
 * on the same disk in the same run, because absolute times on shared machines are noise.
 *
 * Run: `node dist/bench/wal.js [--quick]` after `npm run build`, or through the bench runner.
 */
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Packr } from 'msgpackr';
import { crc32cSoftware } from '../partitions/crc32c.js';
import { CRC32C_IMPLEMENTATION, crc32c, type OpenFile, openWal, readWal } from '../partitions/index.js';
import { MSGPACK_OPTIONS } from '../partitions/wal-format.js';

const EDGES_PER_BATCH = 5000;
const MiB = 1024 * 1024;

/** A 5 K-edge batch in the API's columnar bulk form: ids, a label and one float property. */
function columnarBatch(seed: number): unknown {
  const src = new Float64Array(EDGES_PER_BATCH);
  const dst = new Float64Array(EDGES_PER_BATCH);
  const weight = new Float64Array(EDGES_PER_BATCH);
  for (let i = 0; i < EDGES_PER_BATCH; i++) {
    src[i] = (seed * 7919 + i * 13) % 10_000_019;
    dst[i] = (seed * 104729 + i * 31) % 10_000_019;
    weight[i] = i / 7;
  }
  return { edges: { src, dst, label: 'edge', props: { weight } } };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Times every fdatasync made through the handles it opens. */
function timedOpen(samples: number[]): OpenFile {
  return async (path, flags) => {
    const fh = await open(path, flags);
    const datasync = fh.datasync.bind(fh);
    fh.datasync = async () => {
      const t0 = performance.now();
      await datasync();
      samples.push(performance.now() - t0);
    };
    return fh;
  };
}

interface SealRun {
  seals: number;
  bytes: number;
  seconds: number;
  sealMs: number[];
  syncMs: number[];
  /** Time of the plain write + fdatasync of the same bytes, interleaved with the seals. */
  rawSeconds: number;
}

async function runSeals(
  root: string,
  name: string,
  seals: number,
  fill: (wal: Awaited<ReturnType<typeof openWal>>, i: number) => void,
  backup: boolean,
  interleaveRaw = false,
): Promise<SealRun> {
  const syncMs: number[] = [];
  const dir = join(root, name, 'wal');
  const wal = await openWal({
    dir,
    backupDir: backup ? join(root, name, 'backup') : undefined,
    openFile: timedOpen(syncMs),
  });
  syncMs.length = 0;
  const sealMs: number[] = [];
  let bytes = 0;
  let seconds = 0;
  let rawSeconds = 0;
  const raw = interleaveRaw ? await open(join(root, name, 'raw.log'), 'w') : undefined;
  for (let i = 1, rawPos = 0; i <= seals; i++) {
    const s0 = performance.now();
    fill(wal, i);
    const r = await wal.seal(i, Date.now());
    const ms = performance.now() - s0;
    sealMs.push(ms);
    seconds += ms / 1000;
    bytes += r.bytes;
    if (raw) {
      // The floor on the same disk at the same moment: the same bytes, one write, one fdatasync.
      const r0 = performance.now();
      await raw.write(rawBuffer(r.bytes), 0, r.bytes, rawPos);
      await raw.datasync();
      rawSeconds += (performance.now() - r0) / 1000;
      rawPos += r.bytes;
    }
  }
  await raw?.close();
  await wal.close();
  return {
    seals,
    bytes,
    seconds,
    rawSeconds,
    sealMs: sealMs.sort((a, b) => a - b),
    syncMs: syncMs.sort((a, b) => a - b),
  };
}

let rawScratch = Buffer.alloc(0);
function rawBuffer(bytes: number): Buffer {
  if (rawScratch.length < bytes) rawScratch = Buffer.alloc(bytes, 1);
  return rawScratch;
}

function crcThroughput(fn: (d: Uint8Array) => number, megabytes: number): number {
  const buf = Buffer.alloc(MiB, 0x5a);
  fn(buf);
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < megabytes; i++) x ^= fn(buf);
  const s = (performance.now() - t0) / 1000;
  if (x === 0.5) console.log(x); // keep the loop observable
  return (megabytes * MiB) / s / 1e6;
}

/** Runs the WAL benchmarks; returns the figures written to bench/results/wal.json. */
export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const seals = opts.quick ? 40 : 300;
  const root = await mkdtemp(join(tmpdir(), 'epochgraph-bench-wal-'));
  try {
    const packr = new Packr(MSGPACK_OPTIONS);
    const batches = Array.from({ length: 16 }, (_, i) => columnarBatch(i));
    const encoded = batches.map((b) => packr.pack(b).slice());

    // 1. One 5 K-edge columnar batch per seal, encoded by the WAL (msgpack + CRC + write + fsync).
    const columnar = await runSeals(
      root,
      'columnar',
      seals,
      (wal, i) => wal.append(batches[i % 16]),
      false,
      true,
    );
    // 2. The same batch already encoded by the caller (as a worker receiving msgpack would).
    const preencoded = await runSeals(
      root,
      'bytes',
      seals,
      (wal, i) => wal.appendBytes(encoded[i % 16]),
      false,
    );
    // 3. Same as 1 with the backup mirror (same disk here, so it measures two fsyncs in parallel).
    const mirrored = await runSeals(root, 'mirrored', seals, (wal, i) => wal.append(batches[i % 16]), true);
    // 4. 5 K small per-edge records per seal: the per-record overhead.
    const perEdge = await runSeals(
      root,
      'per-edge',
      Math.max(10, seals / 4),
      (wal, i) => {
        for (let k = 0; k < EDGES_PER_BATCH; k++)
          wal.append({ op: 'upsertEdge', src: i * 10_000 + k, dst: k });
      },
      false,
    );
    // 5. A 50 ms epoch at the 1 M edges/s target: ten 5 K-edge batches (50 K edges) per seal.
    const epochLoad = await runSeals(
      root,
      'epoch-50k',
      Math.max(10, seals / 5),
      (wal, i) => {
        for (let k = 0; k < 10; k++) wal.append(batches[(i + k) % 16]);
      },
      false,
    );
    const groupBytes = Math.round(columnar.bytes / columnar.seals);

    // 6. Recovery: read back and decode the columnar WAL.
    const r0 = performance.now();
    let groups = 0;
    for await (const _g of readWal(join(root, 'columnar', 'wal'))) groups++;
    const readSeconds = (performance.now() - r0) / 1000;

    const crcMB = crcThroughput(crc32c, opts.quick ? 256 : 2048);
    const crcSoftMB = crcThroughput(crc32cSoftware, opts.quick ? 32 : 256);

    const mbps = (r: SealRun) => r.bytes / r.seconds / 1e6;
    const results: Record<string, number> = {
      seals,
      groupBytes,
      columnarSealsPerSec: columnar.seals / columnar.seconds,
      columnarMBps: mbps(columnar),
      columnarDurableEdgesPerSec: (columnar.seals * EDGES_PER_BATCH) / columnar.seconds,
      columnarSealP50Ms: percentile(columnar.sealMs, 50),
      columnarSealP99Ms: percentile(columnar.sealMs, 99),
      fdatasyncP50Ms: percentile(columnar.syncMs, 50),
      fdatasyncP99Ms: percentile(columnar.syncMs, 99),
      preencodedSealsPerSec: preencoded.seals / preencoded.seconds,
      preencodedMBps: mbps(preencoded),
      mirroredSealsPerSec: mirrored.seals / mirrored.seconds,
      mirroredMBps: mbps(mirrored),
      mirroredSealP99Ms: percentile(mirrored.sealMs, 99),
      perEdgeRecordsSealsPerSec: perEdge.seals / perEdge.seconds,
      perEdgeRecordsPerSec: (perEdge.seals * EDGES_PER_BATCH) / perEdge.seconds,
      perEdgeMBps: mbps(perEdge),
      epoch50kSealP50Ms: percentile(epochLoad.sealMs, 50),
      epoch50kSealP99Ms: percentile(epochLoad.sealMs, 99),
      epoch50kMaxDurableEdgesPerSec: (epochLoad.seals * 10 * EDGES_PER_BATCH) / epochLoad.seconds,
      rawWriteFsyncPerSec: seals / columnar.rawSeconds,
      sealVsRawRatio: columnar.seconds / columnar.rawSeconds,
      recoveryReadMBps: columnar.bytes / readSeconds / 1e6,
      recoveryGroupsPerSec: groups / readSeconds,
      crc32cNativeMBps: CRC32C_IMPLEMENTATION === 'native' ? crcMB : Number.NaN,
      crc32cSoftwareMBps: crcSoftMB,
    };
    printTable(results);
    await mkdir(join(process.cwd(), 'bench', 'results'), { recursive: true });
    await writeFile(
      join(process.cwd(), 'bench', 'results', 'wal.json'),
      `${JSON.stringify({ benchmark: 'wal', quick: opts.quick, at: new Date().toISOString(), results }, null, 2)}\n`,
    );
    return results;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function printTable(results: Record<string, number>): void {
  const rows = Object.entries(results).map(([k, v]) => [
    k,
    Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v.toFixed(3),
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('WAL benchmark');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v.padStart(12)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({ quick: process.argv.includes('--quick') });
}
