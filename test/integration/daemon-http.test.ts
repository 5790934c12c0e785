/**
 * The daemon serves its HTTP API on a real port: ready after recovery, writes acknowledged
 * with an epoch that is at once readable, and a clean shutdown that makes a restart serve the
 * same epoch.
 */
import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServeConfig, serveConfigSchema } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import { TEST_STORE_LIMITS as LIMITS } from '../helpers/api-harness.js';
import { fixture, readExpected } from '../helpers/graphalytics-files.js';
import { tempDir } from '../helpers/temp-dir.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A daemon on a free port over a new temp data dir (removed after the test). */
async function startInTempDir(extra: Partial<ServeConfig>) {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const config = serveConfigSchema.parse({ dataDir: dir.path, epochMs: 10, port: 0, ...extra });
  return { dir, config, d: await restart(config) };
}

/** Start a daemon on `config` (closed after the test). */
async function restart(config: ServeConfig): Promise<Daemon> {
  const d = await Daemon.start({ ...config }, { limits: LIMITS, path: '/nonexistent' });
  cleanups.push(() => d.close());
  return d;
}

describe('daemon over HTTP', () => {
  it('serves writes and reads on a real port and restarts at the same epoch', async () => {
    const { config, d } = await startInTempDir({ partitions: 2 });
    const base = d.endpoint;
    expect((await fetch(`${base}/v1/ready`)).status).toBe(200);
    const w = await fetch(`${base}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ops: [
          { op: 'upsertEdge', src: 1, dst: 2 },
          { op: 'upsertEdge', src: 1, dst: 'b' },
        ],
      }),
    });
    expect(w.status).toBe(200);
    const { epoch } = (await w.json()) as { epoch: number };
    const r = await fetch(`${base}/v1/snapshots/${epoch}/vertices/1/neighbors`);
    expect(r.headers.get('x-epoch')).toBe(String(epoch));
    expect(((await r.json()) as { neighbors: unknown[] }).neighbors).toEqual([2, 'b']);
    // A batch read of 256 ids or more runs in the read pool, a smaller one on the main thread;
    // both answer alike, and /metrics says where each ran.
    const batchRead = async (ids: unknown[]) => {
      const res = await fetch(`${base}/v1/snapshots/${epoch}/neighbors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids, direction: 'both' }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { offsets: number[]; neighbors: unknown[]; missing: number[] };
    };
    const many = [1, 'b', 2, ...Array.from({ length: 297 }, (_, i) => 1000 + i)];
    const big = await batchRead(many);
    expect(big.neighbors).toEqual([2, 'b', 1, 1]);
    expect(big.offsets.slice(0, 4)).toEqual([0, 2, 3, 4]);
    expect(big.missing.length).toBe(297);
    expect(await batchRead([1, 'b'])).toEqual({
      ...big,
      offsets: [0, 2, 3],
      neighbors: [2, 'b', 1],
      missing: [],
    });
    const afterReads = await (await fetch(`${base}/metrics`)).text();
    expect(afterReads).toMatch(/epochgraph_batch_neighbor_reads_total\{thread="pool"\} 1/);
    expect(afterReads).toMatch(/epochgraph_batch_neighbor_reads_total\{thread="main"\} 1/);
    // An analytics run shows in the daemon's /metrics (the pool reports to the app's registry).
    const run = await fetch(`${base}/v1/snapshots/${epoch}/algorithms/wcc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(run.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/epochgraph_analytics_runs_finished_total\{algorithm="wcc",outcome="ok"\} 1/);
    expect(metrics).toMatch(/epochgraph_analytics_runs_active 0/);
    await d.close();
    await expect(fetch(`${base}/v1/health`)).rejects.toThrow();
    const d2 = await restart(config);
    const e = (await (await fetch(`${d2.endpoint}/v1/epochs`)).json()) as { latest: number };
    expect(e.latest).toBe(epoch);
  });
});

describe('checkpoints', () => {
  it('takes a checkpoint once --checkpoint-wal-bytes of WAL is written, and restarts from it', async () => {
    const { dir, config, d } = await startInTempDir({ partitions: 1, checkpointWalBytes: 1 << 20 });
    const checkpoints = async () =>
      (await readdir(`${dir.path}/p0/checkpoints`)).filter((f) => f.endsWith('.ckpt'));
    expect(await checkpoints()).toEqual([]);
    // Over 1 MiB of WAL: 1200 vertices with a 1000-character property, in three batches.
    let epoch = 0;
    for (let b = 0; b < 3; b++) {
      const ops = Array.from({ length: 400 }, (_, i) => ({
        op: 'upsertVertex',
        id: b * 400 + i,
        props: { note: `${b * 400 + i}:`.padEnd(1000, 'x') },
      }));
      const w = await fetch(`${d.endpoint}/v1/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ops }),
      });
      const body = (await w.json()) as { epoch: number };
      expect(w.status, JSON.stringify(body)).toBe(200);
      epoch = body.epoch;
    }
    const deadline = Date.now() + 10_000;
    while ((await checkpoints()).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect((await checkpoints()).length).toBe(1);
    // The daemon's /metrics shows it (its app subscribes before recovery has finished). The
    // report follows the file's rename, so wait for it.
    let metrics = '';
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${d.endpoint}/metrics`)).text();
      if (metrics.includes('epochgraph_checkpoints_total{')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(metrics).toMatch(/^epochgraph_checkpoints_total\{partition="0",result="ok"\} 1$/m);
    expect(metrics).toMatch(/^epochgraph_checkpoint_duration_seconds_count\{partition="0"\} 1$/m);
    expect(Number(/^epochgraph_checkpoint_bytes\{partition="0"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(
      1 << 20,
    );
    await d.close();
    const d2 = await restart(config);
    const e = (await (await fetch(`${d2.endpoint}/v1/epochs`)).json()) as { latest: number };
    expect(e.latest).toBe(epoch);
    const v = await fetch(`${d2.endpoint}/v1/snapshots/latest/vertices/1199`);
    const props = ((await v.json()) as { props: { note: string } }).props;
    expect(props.note).toBe('1199:'.padEnd(1000, 'x'));
  });
});

describe('analytics over HTTP', () => {
  it('runs Graphalytics algorithms through the daemon and matches the reference outputs', async () => {
    const { readFile } = await import('node:fs/promises');
    const { packMsgpack, unpackMsgpack } = await import('../../src/codec/msgpack.js');
    const ex = fixture('example');
    const vs = (await readFile(`${ex}/example-directed.v`, 'utf8')).trim().split('\n').map(Number);
    const es = (await readFile(`${ex}/example-directed.e`, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).map(Number));
    const { d } = await startInTempDir({ partitions: 2, analyticsWorkers: 1 });
    const base = d.endpoint;
    const ops = [
      ...vs.map((id) => ({ op: 'upsertVertex', id })),
      ...es.map(([src, dst, w]) => ({ op: 'upsertEdge', src, dst, props: { weight: w } })),
    ];
    const w = await fetch(`${base}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ops }),
    });
    const { epoch } = (await w.json()) as { epoch: number };
    const expected = (name: string) => readExpected(`${ex}/example-directed-${name}`);
    const run = async (name: string, body: unknown) => {
      const r = await fetch(`${base}/v1/snapshots/${epoch}/algorithms/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-epoch')).toBe(String(epoch));
      return (await r.json()) as { ids: number[]; values: (number | null)[] };
    };
    const bfs = await run('bfs', { source: 1 });
    const bfsWant = await expected('BFS');
    bfs.ids.forEach((id, i) => {
      const want = bfsWant.get(id);
      expect(bfs.values[i] === null ? '9223372036854775807' : String(bfs.values[i])).toBe(want);
    });
    const pr = await run('pagerank', { iterations: 2, damping: 0.85 });
    const prWant = await expected('PR');
    expect(pr.ids.length).toBe(prWant.size);
    pr.ids.forEach((id, i) => {
      const want = Number(prWant.get(id));
      expect(Math.abs((pr.values[i] as number) - want)).toBeLessThanOrEqual(1e-4 * want);
    });
    // msgpack: typed arrays; unknown algorithm: 404; missing source: 400.
    const m = await fetch(`${base}/v1/snapshots/latest/algorithms/pagerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: packMsgpack({ iterations: 2, top: 3 }),
    });
    const mb = unpackMsgpack(new Uint8Array(await m.arrayBuffer())) as { ids: unknown; values: unknown };
    expect(mb.values).toBeInstanceOf(Float64Array);
    expect((mb.values as Float64Array).length).toBe(3);
    expect(
      (
        await fetch(`${base}/v1/snapshots/latest/algorithms/nope`, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    const bad = await fetch(`${base}/v1/snapshots/latest/algorithms/bfs`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
  });
});
