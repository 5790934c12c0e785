/**
 * Time travel over HTTP against a real machine with a short retention (300 ms): an old epoch
 * shows the old state after overwrites and deletes; once it leaves retention it answers 410
 * EPOCH_GONE; a pin keeps it readable until the pin is deleted, and a pin that expires lets
 * it go. Every write is followed by a seal, and each seal runs a retention pass, so "after
 * retention" is forced by writing, not by waiting on a timer alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalId } from '../../src/model/ids.js';
import {
  type ApiHarness,
  body,
  errorCode,
  get,
  postJson,
  postMsgpack,
  startApi,
} from '../helpers/api-harness.js';

const RETAIN_MS = 300;
let h: ApiHarness;

beforeAll(async () => {
  h = await startApi({ machine: { retainMs: RETAIN_MS } });
});
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function write(ops: Record<string, unknown>[]): Promise<number> {
  const r = await postJson(h.app, '/v1/batches', { ops });
  expect(r.statusCode, r.body).toBe(200);
  return body<{ epoch: number }>(r).epoch;
}

/** A write that seals an epoch, whose seal runs a retention pass. */
let tickId = 0;
const nudge = () => write([{ op: 'upsertVertex', id: `tick-${tickId++}` }]);

async function statusAt(epoch: number): Promise<number> {
  return (await get(h.app, `/v1/snapshots/${epoch}/vertices/1`)).statusCode;
}

/** Write until the epoch answers 410 (retention passes run at each seal), up to a deadline. */
async function waitGone(epoch: number, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    await nudge();
    if ((await statusAt(epoch)) === 410) return;
    await sleep(50);
  }
  throw new Error(`epoch ${epoch} did not leave retention`);
}

describe('time travel', () => {
  it('reads the old state at an old epoch after overwrites and deletes; 410 once it leaves retention; pins hold it', async () => {
    const a = await write([
      { op: 'upsertVertex', id: 1, props: { v: 'old' } },
      { op: 'upsertEdge', src: 1, dst: 2 },
      { op: 'upsertEdge', src: 1, dst: 3 },
      { op: 'upsertEdge', src: 3, dst: 'x' },
    ]);
    const b = await write([
      { op: 'upsertVertex', id: 1, props: { v: 'new' } },
      { op: 'deleteEdge', src: 1, dst: 2 },
      { op: 'deleteVertex', id: 3 },
      { op: 'upsertEdge', src: 1, dst: 4 },
    ]);
    expect(b).toBeGreaterThan(a);

    // The old epoch, through every kind of read.
    const va = await get(h.app, `/v1/snapshots/${a}/vertices/1`);
    expect(va.headers['x-epoch']).toBe(String(a));
    expect(body(va)).toMatchObject({ epoch: a, props: { v: 'old' }, outDegree: 2 });
    expect(body(await get(h.app, `/v1/snapshots/${b}/vertices/1`))).toMatchObject({
      epoch: b,
      props: { v: 'new' },
      outDegree: 1,
    });
    expect(
      body<{ neighbors: ExternalId[] }>(await get(h.app, `/v1/snapshots/${a}/vertices/1/neighbors`))
        .neighbors,
    ).toEqual([2, 3]);
    expect(
      body<{ neighbors: ExternalId[] }>(await get(h.app, `/v1/snapshots/${b}/vertices/1/neighbors`))
        .neighbors,
    ).toEqual([4]);
    expect((await get(h.app, `/v1/snapshots/${a}/vertices/3`)).statusCode).toBe(200);
    const gone3 = await get(h.app, `/v1/snapshots/${b}/vertices/3`);
    expect(gone3.statusCode).toBe(404);
    expect(errorCode(gone3)).toBe('VERTEX_NOT_FOUND');
    // Vertex 3's in-edge from 1 and out-edge to x went with it, on both partitions, in epoch b.
    const rows = await postMsgpack(h.app, `/v1/snapshots/${a}/neighbors`, {
      ids: [1, 3, 'x'],
      direction: 'both',
    });
    const rb = body<{ offsets: Float64Array; neighbors: ExternalId[] }>(rows);
    expect(Array.from(rb.offsets)).toEqual([0, 2, 4, 5]);
    const rowsB = body<{ offsets: Float64Array; missing: Float64Array }>(
      await postMsgpack(h.app, `/v1/snapshots/${b}/neighbors`, { ids: [1, 3, 'x'], direction: 'both' }),
    );
    expect(Array.from(rowsB.missing)).toEqual([1]);
    expect(Array.from(rowsB.offsets)).toEqual([0, 1, 1, 1]);
    const sub = body<{ vertices: ExternalId[] }>(
      await postJson(h.app, `/v1/snapshots/${a}/subgraph`, { seeds: [1], hops: 2 }),
    );
    expect(new Set(sub.vertices)).toEqual(new Set([1, 2, 3, 'x']));
    // asOf at a's seal time names a.
    const sealedAt = body<{ sealedAt: string }>(await get(h.app, `/v1/epochs/${a}`)).sealedAt;
    const asOf = await get(h.app, `/v1/snapshots/latest/vertices/1?asOf=${encodeURIComponent(sealedAt)}`);
    expect(body(asOf)).toMatchObject({ epoch: a, props: { v: 'old' } });

    // A pin keeps a readable past retention, until the pin is deleted.
    const pin = body<{ pin: string; epoch: number }>(
      await postJson(h.app, '/v1/pins', { epoch: a, ttlMs: 60_000 }),
    );
    expect(pin.epoch).toBe(a);
    await sleep(RETAIN_MS * 3);
    await nudge();
    await nudge();
    expect(await statusAt(a)).toBe(200);
    expect(body(await get(h.app, `/v1/snapshots/${a}/vertices/1`))).toMatchObject({ props: { v: 'old' } });
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/pins/${pin.pin}` })).statusCode).toBe(204);
    await waitGone(a);

    // Gone for every route, and asOf that time too.
    for (const url of [
      `/v1/snapshots/${a}/vertices/1`,
      `/v1/snapshots/${a}/vertices/1/neighbors`,
      `/v1/epochs/${a}`,
      `/v1/snapshots/${a}/partitions/0/csr`,
      `/v1/snapshots/latest/vertices/1?asOf=${encodeURIComponent(sealedAt)}`,
    ]) {
      const r = await get(h.app, url);
      expect(r.statusCode, url).toBe(410);
      expect(errorCode(r), url).toBe('EPOCH_GONE');
      expect(r.headers['x-epoch']).toBeUndefined();
    }
    const post = await postJson(h.app, `/v1/snapshots/${a}/neighbors`, { ids: [1] });
    expect(post.statusCode).toBe(410);
    const pinGone = await postJson(h.app, '/v1/pins', { epoch: a, ttlMs: 1000 });
    expect(pinGone.statusCode).toBe(410);
    // b left with it; the latest state is what b wrote.
    expect(body(await get(h.app, '/v1/snapshots/latest/vertices/1'))).toMatchObject({ props: { v: 'new' } });
  });

  it('lets a pinned epoch go once the pin expires', async () => {
    const e = await write([{ op: 'upsertVertex', id: 1, props: { v: 'pinned' } }]);
    const ttlMs = 900;
    const pin = await postJson(h.app, '/v1/pins', { epoch: e, ttlMs });
    expect(pin.statusCode).toBe(201);
    await write([{ op: 'upsertVertex', id: 1, props: { v: 'after' } }]);
    // Past retention, before expiry: a retention pass (at this seal) keeps it for the pin.
    await sleep(RETAIN_MS + 150);
    await nudge();
    expect(await statusAt(e)).toBe(200);
    expect(body(await get(h.app, `/v1/snapshots/${e}/vertices/1`))).toMatchObject({ props: { v: 'pinned' } });
    await sleep(ttlMs);
    await waitGone(e);
    expect(errorCode(await get(h.app, `/v1/snapshots/${e}/vertices/1`))).toBe('EPOCH_GONE');
  });
});
