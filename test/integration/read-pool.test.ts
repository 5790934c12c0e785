/**
 * The read pool (AnalyticsService `readWorkers`) against a real machine (P = 2, worker
 * threads): batch-neighbour reads answered in a pool thread equal the in-process read at every
 * epoch tried, for integer and string ids, missing and deleted ids, labels and directions;
 * typed errors come back across the thread (TOO_LARGE, EPOCH_NOT_FOUND, INVALID_REQUEST); and
 * through the API, requests of at least `readPoolMinIds` ids go to the pool, smaller ones stay
 * on the main thread, and both answer as the app without a pool does, in JSON and msgpack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiAnalytics } from '../../api/deps.js';
import { AnalyticsPool, AnalyticsService } from '../../src/analytics/index.js';
import { unpackMsgpack } from '../../src/codec/msgpack.js';
import type { ExternalId } from '../../src/model/ids.js';
import type { NeighborDirection } from '../../src/storage/graph-snapshot.js';
import { batchNeighborRows, type NeighborRows } from '../../src/storage/index.js';
import {
  type ApiHarness,
  body,
  errorCode,
  MSGPACK_HEADERS,
  mp,
  postJson,
  postMsgpack,
  startApi,
} from '../helpers/api-harness.js';
import { activeReaders, settleReaders } from '../helpers/api-readers.js';
import { rejection } from '../helpers/rejection.js';
import { rng } from '../helpers/rng.js';

let h: ApiHarness;
let service: AnalyticsService;
const epochs: number[] = [];
const LIMITS = { maxBatchNeighbors: 1 << 20, yieldEveryEntries: 64 };
const V = 300;

beforeAll(async () => {
  h = await startApi();
  service = new AnalyticsService({ descriptors: h.machine.descriptors(), poolSize: 1, readWorkers: 1 });
  const next = rng(5);
  const ops: Record<string, unknown>[] = [
    { op: 'upsertEdge', src: 'ann', dst: 'bob', label: 'knows' },
    { op: 'upsertEdge', src: 'bob', dst: 1, label: 'likes' },
    { op: 'upsertEdge', src: 1, dst: 'ann', label: 'knows' },
  ];
  for (let i = 0; i < 2000; i++) {
    ops.push({ op: 'upsertEdge', src: next(V), dst: next(V), label: i % 3 === 0 ? 'likes' : 'knows' });
  }
  const submit = async (batch: Record<string, unknown>[]) => {
    const r = await postJson(h.app, '/v1/batches', { ops: batch });
    expect(r.statusCode).toBe(200);
    epochs.push(body<{ epoch: number }>(r).epoch);
  };
  await submit(ops);
  // Then deletions: edges, and vertices with every edge they had.
  const dels: Record<string, unknown>[] = [
    { op: 'deleteVertex', id: 7 },
    { op: 'deleteVertex', id: 'bob' },
  ];
  for (let i = 0; i < 400; i++) dels.push({ op: 'deleteEdge', src: next(V), dst: next(V), label: 'knows' });
  await submit(dels);
  await submit([
    { op: 'upsertEdge', src: 7, dst: 8, label: 'likes' },
    { op: 'upsertEdge', src: 'ann', dst: 9 },
  ]);
});

afterAll(async () => {
  await service?.close();
  await h?.close();
});

/** The ids of a request: present, missing (10_000), deleted (7 at the second epoch), string ids. */
function requestIds(seed: number, n: number): ExternalId[] {
  const next = rng(seed);
  const ids: ExternalId[] = ['ann', 'bob', 10_000, 7, 1];
  while (ids.length < n) ids.push(next(V + 20));
  return ids;
}

/** The same read in this thread, at the same epoch. */
async function inProcess(epoch: number, ids: ExternalId[], dir: NeighborDirection, label?: string) {
  const snap = h.machine.snapshot(epoch);
  try {
    return await batchNeighborRows(snap, ids, dir, label, LIMITS);
  } finally {
    snap.close();
  }
}

function plain(r: NeighborRows) {
  return {
    offsets: Array.from(r.offsets),
    neighbors: Array.from(r.neighbors),
    missing: Array.from(r.missing),
  };
}

describe('read pool', () => {
  it('answers batch neighbours in a worker exactly as the read in this thread, at every epoch', async () => {
    expect(service.readWorkers).toBe(1);
    let compared = 0;
    for (const epoch of epochs) {
      for (const dir of ['out', 'in', 'both'] as const) {
        for (const label of [undefined, 'likes', 'nosuch']) {
          const ids = requestIds(epoch * 7 + compared, 120);
          const snap = h.machine.snapshot(epoch); // the caller keeps the epoch open
          try {
            const pooled = await service.neighborRows(epoch, ids, dir, label, LIMITS);
            const here = await inProcess(epoch, ids, dir, label);
            expect(plain(pooled)).toEqual(plain(here));
            if (label !== 'nosuch') expect(pooled.neighbors.length).toBeGreaterThan(0);
            compared++;
          } finally {
            snap.close();
          }
        }
      }
    }
    // String ids come back as strings; integer-only answers as a Float64Array.
    const s = await service.neighborRows(epochs[0], ['ann'], 'out', undefined, LIMITS);
    expect(Array.from(s.neighbors)).toEqual(['bob']);
    const f = await service.neighborRows(epochs[0], new Float64Array([1, 2, 3]), 'in', 'knows', LIMITS);
    expect(f.neighbors).toBeInstanceOf(Float64Array);
    // Missing: 10_000 never was a vertex; 7 and 'bob' were deleted at the second epoch.
    const m = await service.neighborRows(epochs[1], ['ann', 'bob', 10_000, 7], 'out', undefined, LIMITS);
    expect(Array.from(m.missing)).toEqual([1, 2, 3]);
    expect(compared).toBe(27);
    expect(await settleReaders(h.machine)).toBe(0);
  });

  it('keeps the columns of reads that interleave in one thread apart', async () => {
    // LIMITS yields every 64 entries, so these reads take turns; each has columns of its own
    // (the local-id columns are kept between reads and lent to one read at a time).
    const asks = Array.from({ length: 6 }, (_, k) => requestIds(40 + k, 50 + 10 * k));
    const together = await Promise.all(asks.map((ids) => inProcess(epochs[2], ids, 'both')));
    for (let k = 0; k < asks.length; k++) {
      expect(plain(together[k])).toEqual(plain(await inProcess(epochs[2], asks[k], 'both')));
    }
    // A read that fails half-way (TOO_LARGE) gives its column back; the next reads are whole.
    const snap = h.machine.snapshot(epochs[2]);
    try {
      const tooLarge = await rejection(
        batchNeighborRows(snap, asks[5], 'both', undefined, { maxBatchNeighbors: 20, yieldEveryEntries: 64 }),
      );
      expect(tooLarge.code).toBe('TOO_LARGE');
    } finally {
      snap.close();
    }
    expect(plain(await inProcess(epochs[2], asks[0], 'both'))).toEqual(plain(together[0]));
  });

  it('brings typed errors back from the worker', async () => {
    const ids = requestIds(1, 50);
    const tooLarge = await rejection(
      service.neighborRows(epochs[0], ids, 'both', undefined, {
        maxBatchNeighbors: 1,
        yieldEveryEntries: 64,
      }),
    );
    expect(tooLarge.code).toBe('TOO_LARGE');
    expect(
      (await rejection(service.neighborRows(h.machine.latestEpoch + 1000, ids, 'out', undefined, LIMITS)))
        .code,
    ).toBe('EPOCH_NOT_FOUND');
    // What crosses the thread boundary is checked again there.
    const bad = await rejection(service.neighborRows(epochs[0], [1, -5], 'out', undefined, LIMITS));
    expect(bad.code).toBe('INVALID_REQUEST');
    expect(bad.message).toMatch(/ids\[1\]/);
    const badDir = await rejection(
      service.neighborRows(epochs[0], [1], 'up' as NeighborDirection, undefined, LIMITS),
    );
    expect(badDir.code).toBe('INVALID_REQUEST');
    // The pool still serves.
    const ok = await service.neighborRows(epochs[0], [1], 'out', undefined, LIMITS);
    expect(ok.offsets.length).toBe(2);
    expect(await settleReaders(h.machine)).toBe(0);
  });

  it('answers NOT_READY when the pool stops under a read, and releases the reader it held', async () => {
    const s2 = new AnalyticsService({ descriptors: h.machine.descriptors(), poolSize: 1, readWorkers: 1 });
    const snap = h.machine.snapshot(epochs[0]);
    try {
      await s2.neighborRows(epochs[0], [1], 'out', undefined, LIMITS); // the worker is up
      // A read of 400K ids takes long enough to be running when the pool closes.
      const many = new Float64Array(400_000);
      for (let i = 0; i < many.length; i++) many[i] = i % V;
      const read = rejection(s2.neighborRows(epochs[0], many, 'both', undefined, LIMITS));
      await new Promise((r) => setTimeout(r, 20));
      await s2.close();
      const err = await read;
      expect(err.code).toBe('NOT_READY');
      expect((await rejection(s2.neighborRows(epochs[0], [1], 'out', undefined, LIMITS))).code).toBe(
        'NOT_READY',
      );
    } finally {
      snap.close();
    }
    expect(await settleReaders(h.machine)).toBe(0);
  });

  it('serves POST .../neighbors from the pool at readPoolMinIds ids and more, as the main thread would', async () => {
    let pooled = 0;
    let packed = 0;
    const counting: ApiAnalytics = {
      run: (...a) => service.run(...a),
      runTyped: (...a) => service.runTyped(...a),
      readWorkers: service.readWorkers,
      neighborRows: (...a) => {
        pooled++;
        return service.neighborRows(...a);
      },
      packedNeighborRows: (...a) => {
        packed++;
        return service.packedNeighborRows(...a);
      },
    };
    const app = await h.extraApp({ analytics: counting, limits: { readPoolMinIds: 10 } });
    const epoch = epochs[2];
    const url = `/v1/snapshots/${epoch}/neighbors`;
    const ints = new Float64Array(200);
    for (let i = 0; i < ints.length; i++) ints[i] = (i * 37) % (V + 5);
    const cases: { ids: ExternalId[] | Float64Array; direction: NeighborDirection; label?: string }[] = [
      { ids: requestIds(3, 60), direction: 'both' },
      { ids: requestIds(4, 60), direction: 'out', label: 'knows' },
      { ids: ints, direction: 'in' },
      { ids: [1, 'ann'], direction: 'out' }, // below readPoolMinIds: main thread
    ];
    for (const c of cases) {
      const json = { ...c, ids: Array.from(c.ids) };
      const viaPool = await postJson(app, url, json);
      const viaMain = await postJson(h.app, url, json);
      expect(viaPool.statusCode).toBe(200);
      expect(viaPool.headers['x-epoch']).toBe(String(epoch));
      expect(body(viaPool)).toEqual(body(viaMain));
      const mp1 = await postMsgpack(app, url, c);
      const mp2 = await postMsgpack(h.app, url, c);
      expect(mp1.statusCode).toBe(200);
      expect(body(mp1)).toEqual(body(mp2));
    }
    // Three cases of at least 10 ids: JSON answers from columns, msgpack ones packed in the pool.
    expect(pooled).toBe(3);
    expect(packed).toBe(3);
    // An error in the worker is the route's error, with its status.
    const small = await h.extraApp({
      analytics: counting,
      limits: { readPoolMinIds: 10, maxBatchNeighbors: 1 },
    });
    const r = await postJson(small, url, { ids: requestIds(5, 40), direction: 'both' });
    expect(r.statusCode).toBe(413);
    expect(errorCode(r)).toBe('TOO_LARGE');
    expect(pooled).toBe(4);
    const rp = await postMsgpack(small, url, { ids: requestIds(5, 40), direction: 'both' });
    expect(rp.statusCode).toBe(413);
    expect(errorCode(rp)).toBe('TOO_LARGE');
    expect(packed).toBe(4);
    expect(activeReaders(h.machine)).toBe(0);
  });

  it('packs msgpack answers into slots it reuses only once each answer is written out', async () => {
    const app = await h.extraApp({ analytics: service, limits: { readPoolMinIds: 1 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}/v1/snapshots/${epochs[2]}/neighbors`;
    const post = async (ids: ExternalId[] | Float64Array, direction: NeighborDirection) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: MSGPACK_HEADERS,
        body: mp({ ids, direction }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-epoch')).toBe(String(epochs[2]));
      return unpackMsgpack(new Uint8Array(await res.arrayBuffer())) as {
        epoch: number;
        offsets: Float64Array;
        neighbors: Float64Array | ExternalId[];
        missing: Float64Array;
      };
    };
    // 24 requests at once, each with ids of its own: each answer is its own read, though
    // the slots they were packed into are shared out and reused.
    const asks = Array.from({ length: 24 }, (_, k) => requestIds(100 + k, 30 + k));
    const answers = await Promise.all(asks.map((ids, k) => post(ids, k % 2 === 0 ? 'out' : 'both')));
    for (let k = 0; k < asks.length; k++) {
      const here = await inProcess(epochs[2], asks[k], k % 2 === 0 ? 'out' : 'both');
      expect(answers[k].epoch).toBe(epochs[2]);
      expect(plain(answers[k])).toEqual(plain(here));
    }
    // Every slot came back once its answer was written; at most the pool's share is kept.
    await expect.poll(() => service.stats().answerSlotsKept).toBeGreaterThan(0);
    expect(service.stats().answerSlotsKept).toBeLessThanOrEqual(4 * service.readWorkers);
    // An answer bigger than a fresh slot (1 MiB): the worker grows the slot to hold it.
    const many = new Float64Array(60_000);
    for (let i = 0; i < many.length; i++) many[i] = i % (V + 5);
    const big = await post(many, 'both');
    const bigHere = await inProcess(epochs[2], Array.from(many), 'both');
    expect(big.neighbors.length).toBeGreaterThan(150_000);
    expect(plain(big)).toEqual(plain(bigHere));
    await expect.poll(() => activeReaders(h.machine)).toBe(0);
  });

  it('packs an answer into the buffer it is given, grown to its maximum, else in bytes of its own', async () => {
    const pool = new AnalyticsPool({ descriptors: h.machine.descriptors(), size: 1 });
    const snap = h.machine.snapshot(epochs[0]);
    try {
      const ids = requestIds(9, 80);
      const here = await inProcess(epochs[0], ids, 'both');
      const task = {
        kind: 'rows',
        epoch: epochs[0],
        partitions: 2,
        ids,
        direction: 'both',
        limits: LIMITS,
      } as const;
      const decode = (b: Uint8Array) => plain(unpackMsgpack(b) as NeighborRows);
      // Room enough: a view of the buffer.
      const roomy = new SharedArrayBuffer(1 << 16, { maxByteLength: 1 << 20 });
      const a = await pool.packedRows({ ...task, answer: roomy });
      expect(a.buffer).toBe(roomy);
      expect(decode(a)).toEqual(plain(here));
      // Too small, but it may grow: grown, and still a view of it.
      const small = new SharedArrayBuffer(64, { maxByteLength: 1 << 20 });
      const b = await pool.packedRows({ ...task, answer: small });
      expect(b.buffer).toBe(small);
      expect(small.byteLength).toBeGreaterThanOrEqual(b.length);
      expect(decode(b)).toEqual(plain(here));
      // Past its maximum: bytes of their own, the same answer.
      const tight = new SharedArrayBuffer(64, { maxByteLength: 128 });
      const c = await pool.packedRows({ ...task, answer: tight });
      expect(c.buffer).not.toBe(tight);
      expect(decode(c)).toEqual(plain(here));
      // The body is the route's: { epoch, offsets, neighbors, missing }.
      expect(Object.keys(unpackMsgpack(a) as object)).toEqual(['epoch', 'offsets', 'neighbors', 'missing']);
      // A buffer that is not a growable shared one is refused where the task is parsed.
      const bad = await rejection(
        pool.packedRows({ ...task, answer: new SharedArrayBuffer(64) as SharedArrayBuffer }),
      );
      expect(bad.code).toBe('INVALID_REQUEST');
    } finally {
      snap.close();
      await pool.close();
    }
  });
});
