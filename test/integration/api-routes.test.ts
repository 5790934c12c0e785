/**
 * Every route of DESIGN §7 (except algorithms) through app.inject(), against a real machine
 * (P = 2, worker threads, WAL in a temp dir), in JSON and in msgpack both ways, with answers
 * checked against the machine's own GraphSnapshot at the same epoch; and every error code:
 * 400, 404 (VERTEX_NOT_FOUND, EPOCH_NOT_FOUND, NOT_FOUND), 409, 413, 503 (NOT_READY with
 * Retry-After). 410 is shown in api-time-travel.test.ts.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { DEFAULT_API_LIMITS } from '../../api/deps.js';
import type { ExternalId } from '../../src/model/ids.js';
import { decodeBatch } from '../../src/model/ops.js';
import {
  type ApiHarness,
  body,
  errorCode,
  get,
  MSGPACK_HEADERS,
  mp,
  postJson,
  postMsgpack,
  startApi,
} from '../helpers/api-harness.js';
import { activeReaders } from '../helpers/api-readers.js';

let h: ApiHarness;
/** Epoch of the ops batch and of the columnar batch. */
let e1: number;
let e2: number;

const RING = 200;

beforeAll(async () => {
  h = await startApi();
  const ops: Record<string, unknown>[] = [
    { op: 'upsertVertex', id: 1, label: 'person', props: { name: 'ann', age: 31, emb: [0.5, 1.5, 2.5] } },
    { op: 'upsertVertex', id: 'bob', label: 'person', props: { name: 'bob', age: 40, emb: [1, 2, 3] } },
    { op: 'upsertVertex', id: '42', label: 'tag', props: { name: 'string-42' } },
    { op: 'upsertVertex', id: 42, label: 'tag', props: { name: 'int-42' } },
    { op: 'upsertEdge', src: 1, dst: 2, label: 'knows', props: { w: 0.5 } },
    { op: 'upsertEdge', src: 1, dst: 3, label: 'knows', props: { w: 1 } },
    { op: 'upsertEdge', src: 1, dst: 'bob', label: 'likes' },
    { op: 'upsertEdge', src: 2, dst: 1, label: 'knows', props: { w: 2 } },
    { op: 'upsertEdge', src: 'bob', dst: 1, label: 'knows', props: { w: 3 } },
  ];
  // A ring 100 -> 101 -> ... for paging and subgraphs.
  for (let i = 0; i < RING; i++) ops.push({ op: 'upsertEdge', src: 100 + i, dst: 100 + ((i + 1) % RING) });
  // A star around 1 for paging.
  for (let i = 0; i < 25; i++) ops.push({ op: 'upsertEdge', src: 1, dst: 1000 + i });
  const r1 = await postJson(h.app, '/v1/batches', { ops });
  expect(r1.statusCode).toBe(200);
  e1 = body<{ epoch: number }>(r1).epoch;

  const n = 500;
  const src = new Float64Array(n);
  const dst = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    src[i] = 5000 + i;
    dst[i] = 5000 + ((i * 7 + 3) % n);
    weight[i] = i / 4;
  }
  const r2 = await postMsgpack(h.app, '/v1/batches', {
    edges: { src, dst, label: 'link', props: { weight } },
  });
  expect(r2.statusCode).toBe(200);
  expect(r2.headers['content-type']).toContain('application/msgpack');
  const b2 = body<{ epoch: number; applied: { upsertedEdges: number } }>(r2);
  e2 = b2.epoch;
  expect(b2.applied.upsertedEdges).toBe(n);
  expect(r2.headers['x-epoch']).toBe(String(e2));
  expect(e2).toBeGreaterThan(e1);
});

afterAll(async () => {
  await h?.close();
});

describe('health and readiness', () => {
  it('reports liveness with the latest epoch, and readiness', async () => {
    const r = await get(h.app, '/v1/health');
    expect(r.statusCode).toBe(200);
    expect(body(r)).toMatchObject({ status: 'ok', writable: true, ready: true, partitions: 2 });
    expect(body<{ latestEpoch: number }>(r).latestEpoch).toBeGreaterThanOrEqual(e2);
    const ready = await get(h.app, '/v1/ready', true);
    expect(ready.statusCode).toBe(200);
    expect(body(ready)).toMatchObject({ ready: true });
  });

  it('answers 503 NOT_READY with Retry-After until ready, on /v1/ready and data routes; health stays up', async () => {
    let isReady = false;
    const app = await h.extraApp({ ready: () => isReady, extraHealth: () => ({ etcd: 'down' }) });
    for (const url of ['/v1/ready', '/v1/epochs', '/v1/snapshots/latest/vertices/1', '/v1/schema']) {
      const r = await get(app, url);
      expect(r.statusCode, url).toBe(503);
      expect(r.headers['retry-after'], url).toBe('1');
      expect(errorCode(r), url).toBe('NOT_READY');
    }
    const w = await postJson(app, '/v1/batches', { ops: [{ op: 'upsertVertex', id: 77 }] });
    expect(w.statusCode).toBe(503);
    const health = await get(app, '/v1/health');
    expect(health.statusCode).toBe(200);
    expect(body(health)).toMatchObject({ ready: false, etcd: 'down' });
    isReady = true;
    expect((await get(app, '/v1/ready')).statusCode).toBe(200);
    expect((await get(app, '/v1/snapshots/latest/vertices/1')).statusCode).toBe(200);
  });
});

describe('epochs', () => {
  it('lists latest, oldest, epochMs and per-partition counts', async () => {
    const r = await get(h.app, '/v1/epochs');
    expect(r.statusCode).toBe(200);
    const b = body<{
      latest: number;
      oldest: number;
      epochMs: number;
      partitions: { partition: number; epoch: number; vertices: number; edges: number }[];
    }>(r);
    expect(b.latest).toBe(h.machine.latestEpoch);
    expect(b.epochMs).toBe(10);
    expect(b.oldest).toBeLessThanOrEqual(e1);
    expect(b.partitions.map((p) => p.partition)).toEqual([0, 1]);
    const info = h.machine.epochInfo(b.latest);
    expect(b.partitions.map((p) => p.vertices)).toEqual(info.partitions.map((p) => p.vertices));
    expect(b.partitions.every((p) => p.epoch === b.latest)).toBe(true);
    expect(r.headers['x-epoch']).toBe(String(b.latest));
  });

  it('gives one epoch by number, latest and asOf, in JSON and msgpack', async () => {
    const r = await get(h.app, `/v1/epochs/${e1}`, true);
    expect(r.statusCode).toBe(200);
    const b = body<{ epoch: number; sealedAt: string; vertices: number; edges: number }>(r);
    const info = h.machine.epochInfo(e1);
    expect(b).toMatchObject({ epoch: e1, vertices: info.vertices, edges: info.edges });
    expect(Date.parse(b.sealedAt)).toBe(info.sealedAtMs);
    // asOf at e1's seal time names e1; the far future names the latest.
    const at = await get(h.app, `/v1/epochs/latest?asOf=${encodeURIComponent(b.sealedAt)}`);
    expect(body(at)).toMatchObject({ epoch: e1 });
    const future = await get(h.app, '/v1/epochs/latest?asOf=2999-01-01T00:00:00Z');
    expect(body(future)).toMatchObject({ epoch: h.machine.latestEpoch });
    const latest = await get(h.app, '/v1/epochs/latest');
    expect(body(latest)).toMatchObject({ epoch: h.machine.latestEpoch });
  });

  it('answers 404 EPOCH_NOT_FOUND for a future epoch, 410 EPOCH_GONE before retention, 400 for bad arguments', async () => {
    const future = await get(h.app, `/v1/epochs/${h.machine.latestEpoch + 1000}`);
    expect(future.statusCode).toBe(404);
    expect(errorCode(future)).toBe('EPOCH_NOT_FOUND');
    const past = await get(h.app, '/v1/epochs/latest?asOf=2000-01-01T00:00:00Z');
    expect(past.statusCode).toBe(410);
    expect(errorCode(past)).toBe('EPOCH_GONE');
    for (const url of [
      '/v1/epochs/-1',
      '/v1/epochs/1.5',
      '/v1/epochs/soon',
      '/v1/epochs/latest?asOf=yesterday',
      '/v1/epochs/latest?asOf=2024-13-45T00:00:00Z',
      `/v1/epochs/${e1}?asOf=2024-01-01T00:00:00Z`,
    ]) {
      const r = await get(h.app, url);
      expect(r.statusCode, url).toBe(400);
      expect(errorCode(r), url).toBe('INVALID_REQUEST');
    }
  });
});

describe('batches', () => {
  it('acknowledges with the epoch that holds the batch, readable at once (JSON)', async () => {
    const r = await postJson(h.app, '/v1/batches', {
      ops: [
        { op: 'upsertVertex', id: 'carol', label: 'person', props: { name: 'carol' } },
        { op: 'upsertEdge', src: 'carol', dst: 1, label: 'knows', props: { w: 9 } },
      ],
    });
    expect(r.statusCode).toBe(200);
    const b = body<{ epoch: number; applied: Record<string, number> }>(r);
    expect(b.applied).toEqual({ upsertedVertices: 1, deletedVertices: 0, upsertedEdges: 1, deletedEdges: 0 });
    expect(r.headers['x-epoch']).toBe(String(b.epoch));
    const v = await get(h.app, `/v1/snapshots/${b.epoch}/vertices/carol`);
    expect(body(v)).toMatchObject({ epoch: b.epoch, id: 'carol', label: 'person', outDegree: 1 });
    const before = await get(h.app, `/v1/snapshots/${e2}/vertices/carol`);
    expect(before.statusCode).toBe(404);
    expect(errorCode(before)).toBe('VERTEX_NOT_FOUND');
  });

  it('answers an empty batch at once, sealing nothing', async () => {
    const latest = h.machine.latestEpoch;
    const r = await postJson(h.app, '/v1/batches', { ops: [] });
    expect(r.statusCode).toBe(200);
    expect(body(r)).toMatchObject({ epoch: latest, applied: { upsertedEdges: 0 } });
    expect(h.machine.latestEpoch).toBe(latest);
  });

  it('rejects invalid batches whole with 400, naming the op', async () => {
    const latest = h.machine.latestEpoch;
    const cases: [unknown, RegExp][] = [
      [{ ops: [{ op: 'upsertEdge', src: 1, dst: -2 }] }, /ops\/0\/dst/],
      [
        {
          ops: [
            { op: 'upsertVertex', id: 1 },
            { op: 'explode', id: 2 },
          ],
        },
        /ops\/1/,
      ],
      [{ ops: [{ op: 'upsertVertex', id: 'x'.repeat(300) }] }, /ops\/0\/id.*256/],
      [{ edges: { src: [1, 2], dst: [3] } }, /src has 2 ids but dst has 1/],
      [{ edges: { src: [1], dst: [2], props: { w: ['a'] }, extra: 1 } }, /extra|Unrecognized/],
      [{ nothing: true }, /nothing|Unrecognized/],
      [{}, /needs "ops" or "edges"/],
    ];
    for (const [payload, message] of cases) {
      const r = await postJson(h.app, '/v1/batches', payload);
      expect(r.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      const e = body<{ error: { code: string; message: string; details?: unknown } }>(r).error;
      expect(e.code).toBe('INVALID_REQUEST');
      expect(`${e.message} ${JSON.stringify(e.details ?? '')}`).toMatch(message);
    }
    // Typed columns with bad values (msgpack) are caught by the checked decoder.
    const bad = await postMsgpack(h.app, '/v1/batches', {
      edges: { src: new Float64Array([1, 2.5]), dst: new Float64Array([3, 4]) },
    });
    expect(bad.statusCode).toBe(400);
    expect(body<{ error: { message: string } }>(bad).error.message).toMatch(
      /edges\.src\[1\].*not an integer/,
    );
    expect(h.machine.latestEpoch).toBe(latest);
  });

  it('answers 409 SCHEMA_CONFLICT for a type conflict, applying nothing', async () => {
    const r = await postJson(h.app, '/v1/batches', {
      ops: [
        { op: 'upsertVertex', id: 'dave', label: 'person' },
        { op: 'upsertEdge', src: 1, dst: 2, label: 'knows', props: { w: 'heavy' } },
      ],
    });
    expect(r.statusCode).toBe(409);
    expect(errorCode(r)).toBe('SCHEMA_CONFLICT');
    expect((await get(h.app, '/v1/snapshots/latest/vertices/dave')).statusCode).toBe(404);
  });
});

describe('vertices', () => {
  it('reads a vertex in JSON (vectors as arrays) and msgpack (vectors as Float32Array)', async () => {
    const r = await get(h.app, `/v1/snapshots/${e1}/vertices/1`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-epoch']).toBe(String(e1));
    expect(body(r)).toEqual({
      epoch: e1,
      id: 1,
      label: 'person',
      props: { name: 'ann', age: 31, emb: [0.5, 1.5, 2.5] },
      outDegree: 28,
      inDegree: 2,
      createdEpoch: e1,
    });
    const m = await get(h.app, `/v1/snapshots/${e1}/vertices/1`, true);
    expect(m.headers['content-type']).toContain('application/msgpack');
    const mb = body<{ props: { emb: unknown } }>(m);
    expect(mb.props.emb).toBeInstanceOf(Float32Array);
    expect(Array.from(mb.props.emb as Float32Array)).toEqual([0.5, 1.5, 2.5]);
  });

  it('tells integer ids from digit strings with idType=string, and reads string ids', async () => {
    expect(body(await get(h.app, '/v1/snapshots/latest/vertices/42'))).toMatchObject({
      id: 42,
      props: { name: 'int-42' },
    });
    expect(body(await get(h.app, '/v1/snapshots/latest/vertices/42?idType=string'))).toMatchObject({
      id: '42',
      props: { name: 'string-42' },
    });
    expect(body(await get(h.app, '/v1/snapshots/latest/vertices/bob'))).toMatchObject({
      id: 'bob',
      label: 'person',
    });
  });

  it('answers 404 VERTEX_NOT_FOUND, 404 EPOCH_NOT_FOUND, and 400 for bad ids and epochs', async () => {
    const missing = await get(h.app, '/v1/snapshots/latest/vertices/999999');
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('VERTEX_NOT_FOUND');
    const future = await get(h.app, `/v1/snapshots/${h.machine.latestEpoch + 50}/vertices/1`);
    expect(future.statusCode).toBe(404);
    expect(errorCode(future)).toBe('EPOCH_NOT_FOUND');
    for (const url of [
      '/v1/snapshots/latest/vertices/99999999999999999999',
      `/v1/snapshots/latest/vertices/${'y'.repeat(300)}`,
      '/v1/snapshots/latest/vertices/1?idType=int',
      '/v1/snapshots/x/vertices/1',
      '/v1/snapshots/latest/vertices/%zz',
    ]) {
      const r = await get(h.app, url);
      expect(r.statusCode, url).toBe(400);
      expect(errorCode(r), url).toBe('INVALID_REQUEST');
    }
    // A msgpack client gets its errors in msgpack too.
    const m = await get(h.app, '/v1/snapshots/latest/vertices/999999', true);
    expect(m.headers['content-type']).toContain('application/msgpack');
    expect(errorCode(m)).toBe('VERTEX_NOT_FOUND');
  });
});

describe('neighbours', () => {
  it('pages through all neighbours with limit and cursor, matching the snapshot', async () => {
    const s = h.machine.snapshot(e1);
    let expected: ExternalId[];
    try {
      expected = s.neighbors(1, { direction: 'both' })?.neighbors ?? [];
    } finally {
      s.close();
    }
    expect(expected.length).toBe(30);
    const seen: ExternalId[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = `direction=both&limit=7${cursor === undefined ? '' : `&cursor=${cursor}`}`;
      const r = await get(h.app, `/v1/snapshots/${e1}/vertices/1/neighbors?${q}`);
      expect(r.statusCode).toBe(200);
      const b = body<{ neighbors: ExternalId[]; directions: string[]; nextCursor?: string; epoch: number }>(
        r,
      );
      expect(b.epoch).toBe(e1);
      expect(b.directions.length).toBe(b.neighbors.length);
      seen.push(...b.neighbors);
      cursor = b.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(5);
    expect(seen).toEqual(expected);
  });

  it('filters by direction and label, returns edge properties, and typed ids in msgpack', async () => {
    const out = body<{ neighbors: ExternalId[]; props: Record<string, number>[] }>(
      await get(h.app, `/v1/snapshots/${e1}/vertices/1/neighbors?label=knows&props=w`),
    );
    expect(out.neighbors).toEqual([2, 3]);
    expect(out.props).toEqual([{ w: 0.5 }, { w: 1 }]);
    const inn = body<{ neighbors: ExternalId[]; props: Record<string, number>[] }>(
      await get(h.app, `/v1/snapshots/${e1}/vertices/1/neighbors?direction=in&props=w`),
    );
    expect(inn.neighbors.sort()).toEqual([2, 'bob'].sort());
    expect(inn.props.map((p) => p.w).sort()).toEqual([2, 3]);
    const m = body<{ neighbors: unknown }>(
      await get(h.app, '/v1/snapshots/latest/vertices/100/neighbors', true),
    );
    expect(m.neighbors).toBeInstanceOf(Float64Array);
    expect(Array.from(m.neighbors as Float64Array)).toEqual([101]);
    const none = body<{ neighbors: ExternalId[] }>(
      await get(h.app, '/v1/snapshots/latest/vertices/1/neighbors?label=nosuchlabel'),
    );
    expect(none.neighbors).toEqual([]);
  });

  it('rejects bad page arguments with 400 and unknown vertices with 404', async () => {
    const max = DEFAULT_API_LIMITS.maxNeighborsPerPage;
    for (const q of [`limit=${max + 1}`, 'limit=0', 'limit=abc', 'direction=sideways', 'cursor=notacursor']) {
      const r = await get(h.app, `/v1/snapshots/latest/vertices/1/neighbors?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(errorCode(r), q).toBe('INVALID_REQUEST');
    }
    const r = await get(h.app, '/v1/snapshots/latest/vertices/424242/neighbors');
    expect(r.statusCode).toBe(404);
    expect(errorCode(r)).toBe('VERTEX_NOT_FOUND');
  });

  it('reads batch neighbours as CSR rows in request order, with missing (JSON and typed msgpack)', async () => {
    const ids: ExternalId[] = [1, 424242, 'bob', 5003, 100, 'nobody', 2];
    const s = h.machine.snapshot(e2);
    const ref = s.batchNeighbors(ids, 'out');
    const refBoth = s.batchNeighbors(ids, 'both', 'knows');
    s.close();
    const j = await postJson(h.app, `/v1/snapshots/${e2}/neighbors`, { ids });
    expect(j.statusCode).toBe(200);
    expect(body(j)).toEqual({
      epoch: e2,
      offsets: Array.from(ref.offsets),
      neighbors: ref.neighbors,
      missing: ref.missing,
    });
    const jb = await postJson(h.app, `/v1/snapshots/${e2}/neighbors`, {
      ids,
      direction: 'both',
      label: 'knows',
    });
    expect(body(jb)).toMatchObject({ offsets: Array.from(refBoth.offsets), neighbors: refBoth.neighbors });

    // Integer ids as a Float64Array; every neighbour is an integer, so the answer is typed.
    const intIds = new Float64Array([5000, 5001, 9_999_999, 100, 5499]);
    const s2 = h.machine.snapshot(e2);
    const ref2 = s2.batchNeighbors(Array.from(intIds), 'out');
    s2.close();
    const m = await postMsgpack(h.app, `/v1/snapshots/${e2}/neighbors`, { ids: intIds });
    expect(m.statusCode).toBe(200);
    expect(m.headers['x-epoch']).toBe(String(e2));
    const mb = body<{ offsets: Float64Array; neighbors: Float64Array; missing: Float64Array }>(m);
    expect(mb.offsets).toBeInstanceOf(Float64Array);
    expect(mb.neighbors).toBeInstanceOf(Float64Array);
    expect(Array.from(mb.offsets)).toEqual(Array.from(ref2.offsets));
    expect(Array.from(mb.neighbors)).toEqual(ref2.neighbors);
    expect(Array.from(mb.missing)).toEqual([2]);
  });

  it('limits ids per batch read (413) and checks typed ids (400)', async () => {
    const app = await h.extraApp({ limits: { maxBatchIds: 10 } });
    const many = await postMsgpack(app, '/v1/snapshots/latest/neighbors', { ids: new Float64Array(11) });
    expect(many.statusCode).toBe(413);
    expect(errorCode(many)).toBe('TOO_LARGE');
    const neg = await postMsgpack(app, '/v1/snapshots/latest/neighbors', { ids: new Float64Array([1, -3]) });
    expect(neg.statusCode).toBe(400);
    expect(body<{ error: { message: string } }>(neg).error.message).toMatch(/ids\[1\].*negative/);
    const tooManyRows = await h.extraApp({ limits: { maxBatchNeighbors: 5 } });
    const wide = await postJson(tooManyRows, '/v1/snapshots/latest/neighbors', { ids: [1] });
    expect(wide.statusCode).toBe(413);
  });
});

describe('subgraph', () => {
  it('returns the k-hop neighbourhood and the edges among it, like the snapshot', async () => {
    const r = await postJson(h.app, `/v1/snapshots/${e2}/subgraph`, {
      seeds: [100],
      hops: 3,
      direction: 'out',
    });
    expect(r.statusCode).toBe(200);
    const b = body<{
      vertices: ExternalId[];
      edges: { src: ExternalId[]; dst: ExternalId[] };
      truncated: boolean;
    }>(r);
    expect(b.vertices).toEqual([100, 101, 102, 103]);
    expect(b.edges).toEqual({ src: [100, 101, 102], dst: [101, 102, 103] });
    expect(b.truncated).toBe(false);
    const s = h.machine.snapshot(e2);
    const ref = s.subgraph([1, 'bob'], 2, 'both', 1000);
    s.close();
    const both = body<{ vertices: ExternalId[]; edges: { src: ExternalId[]; dst: ExternalId[] } }>(
      await postJson(h.app, `/v1/snapshots/${e2}/subgraph`, {
        seeds: [1, 'bob'],
        hops: 2,
        direction: 'both',
      }),
    );
    expect(new Set(both.vertices)).toEqual(new Set(ref.vertices));
    const pairs = (g: { src: ExternalId[]; dst: ExternalId[] }) =>
      g.src.map((x, i) => `${x}->${g.dst[i]}`).sort();
    expect(pairs(both.edges)).toEqual(pairs(ref.edges));
  });

  it('stops at maxVertices (truncated) and sends typed columns in msgpack', async () => {
    const r = await postMsgpack(h.app, '/v1/snapshots/latest/subgraph', {
      seeds: new Float64Array([100]),
      hops: 16,
      maxVertices: 10,
    });
    expect(r.statusCode).toBe(200);
    const b = body<{
      vertices: Float64Array;
      edges: { src: Float64Array; dst: Float64Array };
      truncated: boolean;
    }>(r);
    expect(b.vertices).toBeInstanceOf(Float64Array);
    expect(b.vertices.length).toBe(10);
    expect(b.edges.src).toBeInstanceOf(Float64Array);
    expect(b.edges.src.length).toBe(9);
    expect(b.truncated).toBe(true);
  });

  it('rejects hops and maxVertices over the caps with 400', async () => {
    for (const extra of [
      { hops: DEFAULT_API_LIMITS.maxSubgraphHops + 1 },
      { maxVertices: DEFAULT_API_LIMITS.maxSubgraphVertices + 1 },
      { hops: -1 },
      { direction: 'up' },
    ]) {
      const r = await postJson(h.app, '/v1/snapshots/latest/subgraph', { seeds: [1], ...extra });
      expect(r.statusCode, JSON.stringify(extra)).toBe(400);
      expect(errorCode(r)).toBe('INVALID_REQUEST');
    }
  });
});

describe('CSR export', () => {
  it('streams each partition in msgpack and JSON, matching the snapshot', async () => {
    for (let p = 0; p < 2; p++) {
      const s = h.machine.snapshot(e2);
      const ids: ExternalId[] = [];
      const offsets = [0];
      const nbrs: ExternalId[] = [];
      for (const c of s.partitionCsr(p, 'in')) {
        ids.push(...c.ids);
        for (const n of c.counts) offsets.push(offsets[offsets.length - 1] + n);
        nbrs.push(...c.neighbors);
      }
      s.close();
      const m = await get(h.app, `/v1/snapshots/${e2}/partitions/${p}/csr?direction=in`, true);
      expect(m.statusCode).toBe(200);
      expect(m.headers['x-epoch']).toBe(String(e2));
      const mb = body<{
        epoch: number;
        partition: number;
        ids: unknown;
        offsets: Float64Array;
        neighbors: unknown;
      }>(m);
      expect(mb.epoch).toBe(e2);
      expect(mb.partition).toBe(p);
      expect(mb.offsets).toBeInstanceOf(Float64Array);
      expect(Array.from(mb.offsets)).toEqual(offsets);
      // String ids exist in this graph, so id columns are plain arrays.
      expect(Array.from(mb.ids as ExternalId[])).toEqual(ids);
      expect(Array.from(mb.neighbors as ExternalId[])).toEqual(nbrs);
      const j = await app_get_json(`/v1/snapshots/${e2}/partitions/${p}/csr?direction=in`);
      expect(j).toEqual({ epoch: e2, partition: p, ids, offsets, neighbors: nbrs });
    }
  });

  it('filters by label and answers 404 NOT_FOUND for a partition that does not exist', async () => {
    const m = await get(h.app, '/v1/snapshots/latest/partitions/0/csr?label=link', true);
    const b = body<{ offsets: Float64Array; neighbors: ExternalId[] }>(m);
    const s = h.machine.snapshot();
    let expected = 0;
    for (const c of s.partitionCsr(0, 'out', 'link')) expected += c.neighbors.length;
    s.close();
    expect(b.neighbors.length).toBe(expected);
    expect(b.offsets[b.offsets.length - 1]).toBe(expected);
    const none = await get(h.app, '/v1/snapshots/latest/partitions/2/csr');
    expect(none.statusCode).toBe(404);
    expect(errorCode(none)).toBe('NOT_FOUND');
    const bad = await get(h.app, '/v1/snapshots/latest/partitions/0/csr?direction=both');
    expect(bad.statusCode).toBe(400);
  });
});

async function app_get_json(url: string): Promise<unknown> {
  const r = await h.app.inject({ method: 'GET', url, headers: { accept: 'application/json' } });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toContain('application/json');
  return JSON.parse(r.body);
}

describe('pins', () => {
  it('creates (201) and deletes (204) pins; unknown pins are 404; bad ones 400/404', async () => {
    const r = await postJson(h.app, '/v1/pins', { epoch: e1, ttlMs: 60_000 });
    expect(r.statusCode).toBe(201);
    const b = body<{ pin: string; epoch: number; expiresAt: string }>(r);
    expect(b.epoch).toBe(e1);
    expect(Date.parse(b.expiresAt)).toBeGreaterThan(Date.now() + 50_000);
    const m = await postMsgpack(h.app, '/v1/pins', { ttlMs: 1000 });
    expect(m.statusCode).toBe(201);
    expect(body(m)).toMatchObject({ epoch: h.machine.latestEpoch });
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/pins/${b.pin}` })).statusCode).toBe(204);
    const again = await h.app.inject({ method: 'DELETE', url: `/v1/pins/${b.pin}` });
    expect(again.statusCode).toBe(404);
    expect(errorCode(again)).toBe('NOT_FOUND');
    const future = await postJson(h.app, '/v1/pins', { epoch: h.machine.latestEpoch + 99, ttlMs: 1000 });
    expect(future.statusCode).toBe(404);
    expect(errorCode(future)).toBe('EPOCH_NOT_FOUND');
    for (const payload of [
      { ttlMs: 0 },
      { ttlMs: 1.5 },
      { epoch: -1, ttlMs: 10 },
      { ttlMs: 10, other: 1 },
      {},
    ]) {
      const bad = await postJson(h.app, '/v1/pins', payload);
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});

describe('schema, metrics, docs, errors', () => {
  it('lists labels and property types', async () => {
    const r = await get(h.app, '/v1/schema');
    const b = body<{
      vertexLabels: { name: string; properties: { name: string; type: string; length?: number }[] }[];
      edgeLabels: { name: string; properties: { name: string; type: string }[] }[];
    }>(r);
    const person = b.vertexLabels.find((l) => l.name === 'person');
    expect(person?.properties).toEqual(
      expect.arrayContaining([
        { name: 'name', type: 'string' },
        { name: 'age', type: 'float64' },
        { name: 'emb', type: 'vector', length: 3 },
      ]),
    );
    expect(b.edgeLabels.find((l) => l.name === 'link')?.properties).toEqual([
      { name: 'weight', type: 'float64' },
    ]);
  });

  it('exposes Prometheus metrics: epochs, seals, visibility, ingest, WAL bytes, request latency', async () => {
    await get(h.app, '/v1/snapshots/latest/vertices/1');
    const r = await get(h.app, '/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    const text = r.body;
    const value = (re: RegExp) => Number(re.exec(text)?.[1]);
    expect(value(/^epochgraph_latest_epoch (\d+)/m)).toBe(h.machine.latestEpoch);
    expect(value(/^epochgraph_seal_duration_seconds_count\{partition="0"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^epochgraph_visibility_latency_seconds_count (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^epochgraph_ingest_edges_total\{op="upsert"\} (\d+)/m)).toBeGreaterThanOrEqual(500);
    expect(value(/^epochgraph_wal_bytes_total\{partition="0"\} (\d+)/m)).toBeGreaterThan(0);
    expect(text).toMatch(
      /epochgraph_http_request_duration_seconds_count\{method="GET",route="\/v1\/snapshots\/:epoch\/vertices\/:id",status="200"\} \d+/,
    );
  });

  it('exposes each partition checkpoint in the metrics: count, duration, encoding time, size, epoch', async () => {
    const before = await get(h.app, '/metrics');
    const value = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const ok = /^epochgraph_checkpoints_total\{partition="1",result="ok"\} (\d+)/m;
    await h.machine.checkpoint();
    const text = (await get(h.app, '/metrics')).body;
    expect(value(text, ok)).toBe(value(before.body, ok) + 1);
    expect(value(text, /^epochgraph_checkpoint_duration_seconds_count\{partition="1"\} (\d+)/m)).toBe(
      value(text, ok),
    );
    expect(
      value(text, /^epochgraph_checkpoint_encode_seconds_count\{partition="0"\} (\d+)/m),
    ).toBeGreaterThan(0);
    expect(value(text, /^epochgraph_checkpoint_bytes\{partition="0"\} (\d+)/m)).toBeGreaterThan(1000);
    const epoch = value(text, /^epochgraph_checkpoint_epoch\{partition="1"\} (\d+)/m);
    expect(epoch).toBeGreaterThanOrEqual(e2);
    expect(epoch).toBeLessThanOrEqual(h.machine.latestEpoch);
    expect(text).not.toMatch(/result="failed"/);
  });

  it('serves the OpenAPI document generated from the zod schemas, and the UI', async () => {
    const r = await get(h.app, '/docs/json');
    expect(r.statusCode).toBe(200);
    const doc = JSON.parse(r.body) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const path of [
      '/v1/health',
      '/v1/ready',
      '/v1/epochs',
      '/v1/epochs/{epoch}',
      '/v1/pins',
      '/v1/pins/{id}',
      '/v1/batches',
      '/v1/snapshots/{epoch}/vertices/{id}',
      '/v1/snapshots/{epoch}/vertices/{id}/neighbors',
      '/v1/snapshots/{epoch}/neighbors',
      '/v1/snapshots/{epoch}/subgraph',
      '/v1/snapshots/{epoch}/partitions/{p}/csr',
      '/v1/schema',
      '/metrics',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/v1/batches'].post.requestBody)).toContain('upsertEdge');
    const ui = await get(h.app, '/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('writes pino request logs when a logger is given', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await h.extraApp({ logger: { level: 'info', stream } });
    expect((await get(app, '/v1/snapshots/latest/vertices/999999')).statusCode).toBe(404);
    const logs = lines.map(
      (l) =>
        JSON.parse(l) as { msg: string; reqId?: string; req?: { url: string }; res?: { statusCode: number } },
    );
    const incoming = logs.find((l) => l.msg === 'incoming request');
    expect(incoming?.req?.url).toBe('/v1/snapshots/latest/vertices/999999');
    const done = logs.find((l) => l.msg === 'request completed');
    expect(done?.res?.statusCode).toBe(404);
    expect(done?.reqId).toBe(incoming?.reqId);
  });

  it('answers unknown routes with 404 NOT_FOUND in the error shape', async () => {
    for (const [method, url] of [
      ['GET', '/v2/everything'],
      ['PUT', '/v1/batches'],
      ['GET', '/v1/snapshots/latest'],
    ] as const) {
      const r = await h.app.inject({ method, url });
      expect(r.statusCode, url).toBe(404);
      expect(errorCode(r)).toBe('NOT_FOUND');
    }
  });

  it('answers malformed JSON and msgpack bodies, wrong content types and oversized bodies with 400/413', async () => {
    const badJson = await h.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: '{"ops": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.statusCode).toBe(400);
    expect(errorCode(badJson)).toBe('INVALID_REQUEST');
    const badMp = await h.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: Buffer.from([0x82, 0xa3, 0x6f]),
      headers: MSGPACK_HEADERS,
    });
    expect(badMp.statusCode).toBe(400);
    expect(badMp.headers['content-type']).toContain('application/msgpack');
    expect(errorCode(badMp)).toBe('INVALID_REQUEST');
    const xml = await h.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: '<ops/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.statusCode).toBe(400);
    const small = await h.extraApp({ limits: { bodyLimitBytes: 1024 } });
    const big = await small.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: mp({ edges: { src: new Float64Array(1000), dst: new Float64Array(1000) } }),
      headers: MSGPACK_HEADERS,
    });
    expect(big.statusCode).toBe(413);
    expect(errorCode(big)).toBe('TOO_LARGE');
    const bigJson = await postJson(small, '/v1/snapshots/latest/neighbors', {
      ids: Array.from({ length: 500 }, (_, i) => i),
    });
    expect(bigJson.statusCode).toBe(413);
  });
});

describe('snapshot lifetime', () => {
  it('closes every snapshot it opened; only the latest epoch stays open (one per partition) until the next seal', async () => {
    // A seal releases what every app holds; then single-vertex reads of the latest epoch keep
    // their owner partition's snapshot open.
    await h.machine.submit(decodeBatch({ ops: [{ op: 'upsertVertex', id: 'flush0' }] }));
    expect(activeReaders(h.machine)).toBe(0);
    await get(h.app, '/v1/snapshots/latest/vertices/1');
    await get(h.app, '/v1/snapshots/latest/vertices/bob');
    const held = activeReaders(h.machine);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(2);
    // Old epochs are opened and closed per request.
    await get(h.app, `/v1/snapshots/${e1}/vertices/1`);
    expect(activeReaders(h.machine)).toBe(held);
    // A seal releases them; after it, nothing is registered.
    await h.machine.submit(decodeBatch({ ops: [{ op: 'upsertVertex', id: 'flush' }] }));
    expect(activeReaders(h.machine)).toBe(0);
  });

  it('releases the snapshots it holds when the app closes (the machine stays open)', async () => {
    await h.machine.submit(decodeBatch({ ops: [{ op: 'upsertVertex', id: 'flush2' }] }));
    const app = await buildApp({ machine: h.machine });
    expect((await get(app, '/v1/snapshots/latest/vertices/1')).statusCode).toBe(200);
    expect(activeReaders(h.machine)).toBeGreaterThan(0);
    await app.close();
    expect(activeReaders(h.machine)).toBe(0);
    expect(h.machine.failed).toBeNull();
    expect((await get(h.app, '/v1/snapshots/latest/vertices/1')).statusCode).toBe(200);
  });
});
