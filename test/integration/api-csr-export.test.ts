/**
 * The streamed CSR export and the other heavy reads, on a graph big enough to span many
 * chunks (small chunk and yield settings): the msgpack stream decodes with the project's one
 * Unpackr into typed arrays equal to the snapshot's CSR, with an exact Content-Length; the JSON
 * stream parses to the same; over a real socket, slow concurrent clients get the same bytes
 * (chunk buffers are reused between and within exports) and a client that goes away mid-answer
 * harms nothing; heavy reads give the event loop many turns while they run (counted against
 * the same reads with yields off), and every snapshot is closed afterwards.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackMsgpack } from '../../src/codec/msgpack.js';
import type { ExternalId } from '../../src/model/ids.js';
import { type ApiHarness, body, get, postMsgpack, startApi } from '../helpers/api-harness.js';
import { activeReaders, settleReaders } from '../helpers/api-readers.js';
import { rng } from '../helpers/rng.js';

const VERTICES = 6000;
const EDGES = 60_000;
let h: ApiHarness;
let app: FastifyInstance;
let epoch: number;

beforeAll(async () => {
  h = await startApi({
    api: { limits: { csrChunkBytes: 8192, yieldEveryEntries: 512, maxSubgraphVertices: VERTICES } },
  });
  app = h.app;
  const rnd = rng(12345);
  const src = new Float64Array(EDGES);
  const dst = new Float64Array(EDGES);
  for (let i = 0; i < EDGES; i++) {
    src[i] = rnd(VERTICES);
    dst[i] = rnd(VERTICES);
  }
  const r = await postMsgpack(app, '/v1/batches', { edges: { src, dst } });
  expect(r.statusCode).toBe(200);
  epoch = body<{ epoch: number }>(r).epoch;
});
afterAll(async () => {
  await h?.close();
});

function reference(p: number, direction: 'out' | 'in', label?: string, at = epoch) {
  const s = h.machine.snapshot(at);
  const ids: ExternalId[] = [];
  const offsets = [0];
  const neighbors: ExternalId[] = [];
  try {
    for (const c of s.partitionCsr(p, direction, label)) {
      ids.push(...c.ids);
      for (const n of c.counts) offsets.push(offsets[offsets.length - 1] + n);
      neighbors.push(...c.neighbors);
    }
  } finally {
    s.close();
  }
  return { ids, offsets, neighbors };
}

describe('CSR export', () => {
  it('streams msgpack with typed columns and an exact Content-Length, equal to the snapshot CSR', async () => {
    let total = 0;
    for (const direction of ['out', 'in'] as const) {
      for (let p = 0; p < 2; p++) {
        const ref = reference(p, direction);
        const r = await get(app, `/v1/snapshots/${epoch}/partitions/${p}/csr?direction=${direction}`, true);
        expect(r.statusCode).toBe(200);
        expect(Number(r.headers['content-length'])).toBe(r.rawPayload.length);
        expect(r.headers['content-type']).toContain('application/msgpack');
        expect(r.headers['x-epoch']).toBe(String(epoch));
        const b = body<{
          epoch: number;
          partition: number;
          ids: Float64Array;
          offsets: Float64Array;
          neighbors: Float64Array;
        }>(r);
        expect(b.epoch).toBe(epoch);
        expect(b.partition).toBe(p);
        expect(b.ids).toBeInstanceOf(Float64Array);
        expect(b.neighbors).toBeInstanceOf(Float64Array);
        expect(Array.from(b.ids)).toEqual(ref.ids);
        expect(Array.from(b.offsets)).toEqual(ref.offsets);
        expect(Array.from(b.neighbors)).toEqual(ref.neighbors);
        // Far more than one chunk, so the framing across chunks is exercised.
        expect(ref.neighbors.length).toBeGreaterThan(10 * 1024);
        total += ref.neighbors.length;
      }
    }
    // Every edge is stored out at its source's partition and in at its destination's.
    const s = h.machine.snapshot(epoch);
    let edges = 0;
    try {
      for (let v = 0; v < VERTICES; v++) edges += s.vertex(v)?.outDegree ?? 0;
    } finally {
      s.close();
    }
    expect(total).toBe(2 * edges);
  });

  it('streams JSON (Accept: application/json) with the same content', async () => {
    const ref = reference(1, 'out');
    const r = await app.inject({
      method: 'GET',
      url: `/v1/snapshots/${epoch}/partitions/1/csr`,
      headers: { accept: 'application/json' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    expect(r.headers['x-epoch']).toBe(String(epoch));
    expect(JSON.parse(r.body)).toEqual({ epoch, partition: 1, ...ref });
  });

  it('exports an unknown label as rows without entries', async () => {
    const r = await get(app, `/v1/snapshots/${epoch}/partitions/0/csr?label=nope`, true);
    const b = body<{ ids: Float64Array; offsets: Float64Array; neighbors: Float64Array }>(r);
    expect(b.ids.length).toBeGreaterThan(0);
    expect(b.offsets.length).toBe(b.ids.length + 1);
    expect(b.offsets.every((x) => x === 0)).toBe(true);
    expect(b.neighbors.length).toBe(0);
  });

  it('serves a snapshot exported again from its kept count, and counts a later epoch afresh', async () => {
    type Csr = { epoch: number; ids: Float64Array; offsets: Float64Array; neighbors: Float64Array };
    const csrAt = async (e: number) => {
      const r = await get(app, `/v1/snapshots/${e}/partitions/0/csr`, true);
      expect(r.statusCode).toBe(200);
      expect(Number(r.headers['content-length'])).toBe(r.rawPayload.length);
      return { raw: r.rawPayload, b: body<Csr>(r) };
    };
    const exports = async () => {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const count = (rows: string) =>
        Number(new RegExp(`epochgraph_csr_exports_total\\{rows="${rows}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { kept: count('kept'), counted: count('counted') };
    };
    // An earlier test exported this snapshot: its rows are kept.
    const before = await exports();
    const first = await csrAt(epoch);
    const again = await csrAt(epoch);
    expect(again.raw.equals(first.raw)).toBe(true);
    // New vertices with edges to old ones: the later epoch has more rows and entries.
    const n = 500;
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      src[i] = VERTICES + i;
      dst[i] = i;
    }
    const w = await postMsgpack(app, '/v1/batches', { edges: { src, dst } });
    expect(w.statusCode).toBe(200);
    const later = body<{ epoch: number }>(w).epoch;
    const ref = reference(0, 'out', undefined, later);
    const now = await csrAt(later);
    expect(now.b.epoch).toBe(later);
    expect(Array.from(now.b.ids)).toEqual(ref.ids);
    expect(Array.from(now.b.offsets)).toEqual(ref.offsets);
    expect(Array.from(now.b.neighbors)).toEqual(ref.neighbors);
    expect(now.b.ids.length).toBeGreaterThan(first.b.ids.length);
    // The old epoch still reads as it did.
    expect((await csrAt(epoch)).raw.equals(first.raw)).toBe(true);
    const after = await exports();
    expect(after.kept - before.kept).toBe(3);
    expect(after.counted - before.counted).toBe(1);
  });
});

describe('CSR export over a real socket', () => {
  let base: string;
  beforeAll(async () => {
    const served = await h.extraApp({ limits: { csrChunkBytes: 8192 } });
    await served.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`;
  });

  interface Answer {
    status: number;
    length: number;
    bytes: Buffer;
  }

  /** GET a path, reading nothing of the answer for `pauseMs` (so the server's writes back up). */
  function fetchSlowly(path: string, pauseMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      http
        .get(`${base}${path}`, { headers: { accept: 'application/msgpack' } }, (res) => {
          res.pause();
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              length: Number(res.headers['content-length']),
              bytes: Buffer.concat(parts),
            }),
          );
          setTimeout(() => res.resume(), pauseMs);
        })
        .on('error', reject);
    });
  }

  function expectCsr(a: Answer, p: number, direction: 'out' | 'in'): void {
    expect(a.status).toBe(200);
    expect(a.bytes.length).toBe(a.length);
    const b = unpackMsgpack(a.bytes) as { ids: Float64Array; offsets: Float64Array; neighbors: Float64Array };
    const ref = reference(p, direction);
    expect(Array.from(b.ids)).toEqual(ref.ids);
    expect(Array.from(b.offsets)).toEqual(ref.offsets);
    expect(Array.from(b.neighbors)).toEqual(ref.neighbors);
  }

  it('gives slow concurrent clients the same bytes as the snapshot CSR', async () => {
    const asks = [
      [0, 'out'],
      [1, 'out'],
      [0, 'in'],
      [1, 'in'],
    ] as const;
    // Twice: the second round runs on buffers the first one gave back.
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(
        asks.map(([p, d], i) =>
          fetchSlowly(`/v1/snapshots/${epoch}/partitions/${p}/csr?direction=${d}`, 50 + 40 * i),
        ),
      );
      for (const [i, a] of answers.entries()) expectCsr(a, asks[i][0], asks[i][1]);
    }
  });

  it('survives a client that goes away mid-answer, and closes its snapshot', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/v1/snapshots/${epoch}/partitions/0/csr`, (res) => {
        res.once('data', () => req.destroy());
      });
      req.on('close', resolve);
      req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
    });
    expect(await settleReaders(h.machine)).toBe(0);
    expectCsr(await fetchSlowly(`/v1/snapshots/${epoch}/partitions/0/csr`, 0), 0, 'out');
  });
});

describe('heavy reads yield to the event loop', () => {
  let blocking: FastifyInstance;
  beforeAll(async () => {
    // The control: the same reads with chunking and yields effectively off.
    blocking = await h.extraApp({
      limits: { csrChunkBytes: 1 << 28, yieldEveryEntries: 1 << 29, maxSubgraphVertices: VERTICES },
    });
  });

  /** Event-loop turns other work gets while a request runs (counted, not timed). */
  async function turnsDuring(request: () => Promise<unknown>): Promise<number> {
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await request();
    done = true;
    return turns;
  }

  async function expectYields(request: (a: FastifyInstance) => Promise<unknown>): Promise<void> {
    const yielding = await turnsDuring(() => request(app));
    const control = await turnsDuring(() => request(blocking));
    expect(yielding).toBeGreaterThanOrEqual(20);
    expect(yielding).toBeGreaterThan(3 * control);
  }

  it('during a CSR export', async () => {
    await expectYields(async (a) => {
      const r = await get(a, `/v1/snapshots/${epoch}/partitions/0/csr`, true);
      expect(r.statusCode).toBe(200);
    });
  });

  it('during a large batch-neighbour read, answering what the snapshot reads one vertex at a time', async () => {
    const ids = new Float64Array(VERTICES).map((_, i) => i);
    const s = h.machine.snapshot(epoch);
    const ref = s.batchNeighbors(Array.from(ids), 'both');
    s.close();
    await expectYields(async (a) => {
      const r = await postMsgpack(a, `/v1/snapshots/${epoch}/neighbors`, { ids, direction: 'both' });
      expect(r.statusCode).toBe(200);
      const b = body<{ offsets: Float64Array; neighbors: Float64Array }>(r);
      expect(b.neighbors.length).toBe(degreeSum());
      expect(Array.from(b.offsets)).toEqual(Array.from(ref.offsets));
      expect(Array.from(b.neighbors)).toEqual(ref.neighbors);
    });
  });

  it('during a large subgraph', async () => {
    await expectYields(async (a) => {
      const r = await postMsgpack(a, `/v1/snapshots/${epoch}/subgraph`, {
        seeds: [0],
        hops: 10,
        direction: 'both',
      });
      expect(r.statusCode).toBe(200);
      expect(body<{ vertices: Float64Array }>(r).vertices.length).toBeGreaterThan(VERTICES / 2);
    });
  });

  it('leaves no snapshot open', () => {
    // Heavy reads open a snapshot of every partition and close it when done.
    expect(activeReaders(h.machine)).toBe(0);
  });
});

/** The sum of out- and in-degrees over all vertices (duplicate random edges collapse). */
function degreeSum(): number {
  const s = h.machine.snapshot(epoch);
  let degrees = 0;
  try {
    for (let v = 0; v < VERTICES; v++) {
      const x = s.vertex(v);
      if (x !== null) degrees += x.outDegree + x.inDegree;
    }
  } finally {
    s.close();
  }
  return degrees;
}
