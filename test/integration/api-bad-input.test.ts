/**
 * Bad input, property-based (fast-check), against a real machine: random malformed bodies
 * (bad JSON, bad msgpack bytes, wrong types, huge / negative / fractional ids, deep nesting,
 * oversized bodies, wrong content types) posted to the write and read routes, and random
 * paths and query strings on the GET routes. Every answer must be a 4xx in the error shape
 * with a known code (never a 5xx), the daemon must stay up, and its data must be unchanged:
 * the same latest epoch and the same reads before and after.
 */
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packMsgpack, unpackMsgpack } from '../../src/codec/msgpack.js';
import { ERROR_CODES } from '../../src/errors.js';
import { decodeBatch } from '../../src/model/ops.js';
import { type ApiHarness, body, get, mp, postJson, startApi } from '../helpers/api-harness.js';

const BODY_LIMIT = 16 * 1024;
const RUNS = Number(process.env.API_FUZZ_RUNS ?? 150);
let h: ApiHarness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await startApi({ api: { limits: { bodyLimitBytes: BODY_LIMIT, maxBatchIds: 1000 } } });
  app = h.app;
  const r = await postJson(app, '/v1/batches', {
    ops: [
      { op: 'upsertVertex', id: 1, label: 'person', props: { name: 'ann', age: 3 } },
      { op: 'upsertEdge', src: 1, dst: 2, props: { w: 1.5 } },
      { op: 'upsertEdge', src: 2, dst: 'x', props: { w: 2.5 } },
      { op: 'upsertEdge', src: 'x', dst: 1 },
    ],
  });
  expect(r.statusCode).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

/** What a client can observe of the data. */
async function observe(): Promise<string> {
  const parts: unknown[] = [h.machine.latestEpoch];
  for (const url of [
    '/v1/epochs',
    '/v1/schema',
    '/v1/snapshots/latest/vertices/1',
    '/v1/snapshots/latest/vertices/x/neighbors?direction=both&props=w',
    '/v1/snapshots/latest/partitions/0/csr',
    '/v1/snapshots/latest/partitions/1/csr',
  ]) {
    const r = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } });
    parts.push(r.statusCode, JSON.parse(r.body));
  }
  const rows = await postJson(app, '/v1/snapshots/latest/neighbors', {
    ids: [1, 2, 'x', 3],
    direction: 'both',
  });
  parts.push(JSON.parse(rows.body));
  return JSON.stringify(parts);
}

/** A 4xx in the error shape with a known, non-internal code. */
function expectClientError(res: LightMyRequestResponse, what: string): void {
  const where = `${what} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
  expect(res.statusCode, where).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, where).toBeLessThan(500);
  const code = body<{ error: { code: string; message: string } }>(res).error.code;
  expect(ERROR_CODES, where).toContain(code);
  expect(code, where).not.toBe('INTERNAL');
}

/** Never a 5xx; errors in the error shape. */
function expectNoServerError(res: LightMyRequestResponse, what: string): void {
  const where = `${what} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode >= 400) expectClientError(res, what);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Values that are not external ids. */
const badId = fc.oneof(
  fc.integer({ max: -1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.constantFrom(2 ** 53, 2 ** 64, 1e300, -0.5, Number.MAX_VALUE),
  fc.constant(''),
  fc.string({ minLength: 257, maxLength: 400 }),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }),
  fc.array(fc.nat(), { maxLength: 3 }),
);
const goodId = fc.oneof(fc.nat(1000), fc.constantFrom('x', 'y', 'z'));
const label = fc.oneof(fc.constantFrom('edge', 'knows'), fc.string({ minLength: 1, maxLength: 8 }));

/** An op with exactly one thing wrong (or a bad kind / an extra field). */
const badOp = fc.oneof(
  fc.record({ op: fc.constant('upsertVertex'), id: badId }),
  fc.record({ op: fc.constant('deleteVertex'), id: badId }),
  fc.record({ op: fc.constant('upsertEdge'), src: badId, dst: goodId }),
  fc.record({ op: fc.constant('upsertEdge'), src: goodId, dst: badId, label }),
  fc.record({
    op: fc.constant('deleteEdge'),
    src: goodId,
    dst: goodId,
    label: fc.oneof(fc.constant(''), fc.integer()),
  }),
  fc.record({
    op: fc.string().filter((s) => !['upsertVertex', 'deleteVertex', 'upsertEdge', 'deleteEdge'].includes(s)),
    id: goodId,
  }),
  fc.record({
    op: fc.constant('upsertVertex'),
    id: goodId,
    props: fc.oneof(fc.constant(null), fc.array(fc.nat()), fc.string()),
  }),
  fc.record({
    op: fc.constant('upsertEdge'),
    src: goodId,
    dst: goodId,
    props: fc.dictionary(
      fc.string({ minLength: 1 }),
      fc.oneof(
        fc.constant(null),
        fc.dictionary(fc.string(), fc.nat()),
        fc.array(fc.string(), { minLength: 1 }),
      ),
      { minKeys: 1, maxKeys: 2 },
    ),
  }),
  fc.record({ op: fc.constant('deleteVertex'), id: goodId, extra: fc.anything() }),
  fc.record({ id: goodId }),
);
const goodOp = fc.oneof(
  fc.record({ op: fc.constant('upsertVertex'), id: goodId }),
  fc.record({ op: fc.constant('upsertEdge'), src: goodId, dst: goodId }),
);

/** Batches that are invalid by construction. */
const badBatch = fc.oneof(
  fc
    .tuple(fc.array(goodOp, { maxLength: 5 }), badOp, fc.array(goodOp, { maxLength: 5 }))
    .map(([a, bad, b]) => ({ ops: [...a, bad, ...b] })),
  fc.record({
    ops: fc.oneof(fc.string(), fc.integer(), fc.dictionary(fc.string(), fc.nat()), fc.constant(null)),
  }),
  fc
    .tuple(fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 20 }))
    .filter(([s, d]) => s.length !== d.length)
    .map(([src, dst]) => ({ edges: { src, dst } })),
  fc
    .array(fc.oneof(fc.nat(), badId), { minLength: 1, maxLength: 10 })
    .chain((src) => fc.constant({ edges: { src: [...src, -1], dst: [...src.map(() => 1), 2] } })),
  fc.nat({ max: 10 }).map((n) => ({
    edges: { src: Array(n).fill(1), dst: Array(n).fill(2), props: { w: Array(n + 1).fill(1) } },
  })),
  fc.record({
    edges: fc.record({ src: fc.constant([1]), dst: fc.constant([2]), props: fc.constant({ w: ['a'] }) }),
  }),
  // A type conflict with the seeded schema (w is float64): 409, nothing applied.
  fc.record({ ops: fc.constant([{ op: 'upsertEdge', src: 7, dst: 8, props: { w: 'heavy' } }]) }),
  fc.dictionary(
    fc.string().filter((k) => k !== 'ops' && k !== 'edges'),
    fc.anything(),
    { minKeys: 1, maxKeys: 3 },
  ),
);

/** Any value that decodeBatch rejects (the real decoder is the oracle). */
function isInvalidBatch(v: unknown): boolean {
  try {
    decodeBatch(v);
    return false;
  } catch {
    return true;
  }
}
const anyInvalidBatch = fc.anything({ maxDepth: 4 }).filter(isInvalidBatch);
const anyMsgpackValue = fc
  .anything({
    maxDepth: 4,
    withTypedArray: true,
    withMap: true,
    withSet: true,
    withDate: true,
    withBigInt: true,
  })
  .filter((v) => {
    try {
      return isInvalidBatch(unpackMsgpack(packMsgpack(v)));
    } catch {
      return false;
    }
  });

/** Deeply nested documents (arrays or objects, closed or not). */
const deepJson = fc
  .record({ depth: fc.integer({ min: 100, max: 7000 }), obj: fc.boolean(), closed: fc.boolean() })
  .map(({ depth, obj, closed }) => {
    const open = obj ? '{"a":'.repeat(depth) : '['.repeat(depth);
    const close = obj ? '}'.repeat(depth) : ']'.repeat(depth);
    return `${open}1${closed ? close : ''}`;
  });
const deepMsgpack = fc
  .record({ depth: fc.integer({ min: 100, max: 15000 }), closed: fc.boolean() })
  .map(({ depth, closed }) => {
    // fixarray(1) nested depth times around nil; unclosed: one element short.
    const b = Buffer.alloc(depth + 1, 0x91);
    b[depth] = 0xc0;
    return closed ? b : b.subarray(0, depth);
  });

/** Bad read bodies for `POST .../neighbors` and `POST .../subgraph`. */
const notAnObject = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.array(fc.anything({ maxDepth: 2 })),
  fc.constant(null),
  fc.boolean(),
);
const badIdList = fc
  .tuple(fc.array(goodId, { maxLength: 5 }), badId, fc.array(goodId, { maxLength: 5 }))
  .map(([a, b, c]) => [...a, b, ...c]);
const badNeighborsBody = fc.oneof(
  notAnObject,
  fc.record({ ids: badIdList }),
  fc.record({ ids: fc.oneof(fc.string(), fc.nat(), fc.constant(null)) }),
  fc.record({
    ids: fc.array(goodId),
    direction: fc.string().filter((s) => !['out', 'in', 'both'].includes(s)),
  }),
  fc.record({
    ids: fc.array(goodId),
    label: fc.oneof(fc.constant(''), fc.nat(), fc.string({ minLength: 129, maxLength: 200 })),
  }),
  fc.record({ ids: fc.array(goodId), seeds: fc.array(goodId) }),
  fc.record({ ids: fc.constant(Array.from({ length: 1001 }, (_, i) => i)) }),
  fc.record({ direction: fc.constant('out') }),
);
const badSubgraphBody = fc.oneof(
  notAnObject,
  fc.record({ seeds: badIdList }),
  fc.record({
    seeds: fc.array(goodId),
    hops: fc.oneof(
      fc.integer({ max: -1 }),
      fc.integer({ min: 17 }),
      fc.double().filter((x) => !Number.isInteger(x)),
      fc.string(),
    ),
  }),
  fc.record({
    seeds: fc.array(goodId),
    maxVertices: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 100_001 }), fc.constant('all')),
  }),
  fc.record({ seeds: fc.array(goodId), direction: fc.constant('sideways') }),
  fc.record({ hops: fc.nat(3) }),
);

const WRONG_TYPES = [
  'text/plain',
  'application/xml',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'image/png',
] as const;

// ---------------------------------------------------------------------------------------------

type Sent = { payload: string | Buffer; contentType?: string };

function send(url: string, s: Sent) {
  const headers: Record<string, string> = {};
  if (s.contentType !== undefined) headers['content-type'] = s.contentType;
  return app.inject({ method: 'POST', url, payload: s.payload, headers });
}

/** One malformed request body in some encoding, built from a bad value. */
function encodings(bad: fc.Arbitrary<unknown>): fc.Arbitrary<Sent> {
  return fc.oneof(
    bad.map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' })),
    bad.map((v) => ({ payload: mp(v), contentType: 'application/msgpack' })),
    bad.map((v) => ({ payload: mp(v), contentType: 'application/x-msgpack' })),
  );
}

/** Malformed bodies regardless of route: broken bytes, deep nesting, wrong types, oversized. */
const brokenBodies: fc.Arbitrary<Sent> = fc.oneof(
  fc
    .uint8Array({ minLength: 1, maxLength: 300 })
    .map((b) => ({ payload: Buffer.from(b), contentType: 'application/json' })),
  fc
    .uint8Array({ minLength: 1, maxLength: 300 })
    .filter((b) => {
      try {
        const v = unpackMsgpack(b);
        return isInvalidBatch(v);
      } catch {
        return true;
      }
    })
    .map((b) => ({ payload: Buffer.from(b), contentType: 'application/msgpack' })),
  fc.string({ maxLength: 200 }).map((s) => ({ payload: `{"ops": [${s}`, contentType: 'application/json' })),
  fc.constant({ payload: '{"__proto__": {"polluted": true}, "ops": []}', contentType: 'application/json' }),
  fc.constant({ payload: '', contentType: 'application/json' }),
  fc.constant({ payload: Buffer.alloc(0), contentType: 'application/msgpack' }),
  deepJson.map((payload) => ({ payload, contentType: 'application/json' })),
  deepMsgpack.map((payload) => ({ payload, contentType: 'application/msgpack' })),
  fc
    .tuple(fc.constantFrom(...WRONG_TYPES), fc.string({ maxLength: 100 }))
    .map(([contentType, s]) => ({ payload: s.length === 0 ? 'x' : s, contentType })),
  fc.string({ minLength: 1, maxLength: 50 }).map((s) => ({ payload: s })),
  fc
    .record({ extra: fc.integer({ min: 1, max: BODY_LIMIT }), msgpack: fc.boolean() })
    .map(({ extra, msgpack }) =>
      msgpack
        ? {
            payload: mp({ edges: { src: new Float64Array((BODY_LIMIT + extra) / 8 + 1), dst: [] } }),
            contentType: 'application/msgpack',
          }
        : {
            payload: JSON.stringify({ ops: [], pad: 'p'.repeat(BODY_LIMIT + extra) }),
            contentType: 'application/json',
          },
    ),
);

const POST_ROUTES = [
  '/v1/batches',
  '/v1/snapshots/latest/neighbors',
  '/v1/snapshots/latest/subgraph',
  '/v1/pins',
] as const;

describe('bad input never gets a 5xx and changes nothing', () => {
  let before: string;
  beforeAll(async () => {
    before = await observe();
  });

  it('malformed batches (JSON and msgpack) answer 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(encodings(fc.oneof(badBatch, anyInvalidBatch)), async (s) => {
        expectClientError(await send('/v1/batches', s), `batch ${String(s.payload).slice(0, 120)}`);
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(anyMsgpackValue, async (v) => {
        const res = await send('/v1/batches', { payload: mp(v), contentType: 'application/msgpack' });
        expectClientError(res, 'msgpack value');
      }),
      { numRuns: RUNS },
    );
  });

  it('malformed read bodies answer 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(encodings(badNeighborsBody), async (s) => {
        expectClientError(
          await send('/v1/snapshots/latest/neighbors', s),
          `neighbors ${String(s.payload).slice(0, 120)}`,
        );
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(encodings(badSubgraphBody), async (s) => {
        expectClientError(
          await send('/v1/snapshots/latest/subgraph', s),
          `subgraph ${String(s.payload).slice(0, 120)}`,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('broken bytes, deep nesting, wrong content types and oversized bodies answer 4xx on every POST route', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POST_ROUTES), brokenBodies, async (url, s) => {
        const res = await send(url, s);
        expectClientError(res, `${url} ${s.contentType} ${String(s.payload).slice(0, 80)}`);
        if (Buffer.byteLength(s.payload) > BODY_LIMIT) expect(res.statusCode).toBe(413);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('random paths and query strings on GET routes never answer 5xx', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 30 }).map(encodeURIComponent),
      fc.nat().map(String),
      fc.constantFrom(
        'latest',
        '-1',
        '1.5',
        '1e3',
        '99999999999999999999',
        '%',
        '%zz',
        '%E0%A4%A',
        '..',
        'x'.repeat(3000),
      ),
    );
    const query = fc
      .array(
        fc.tuple(
          fc.constantFrom('asOf', 'idType', 'direction', 'label', 'limit', 'cursor', 'props', 'junk'),
          fc.oneof(
            fc.string({ maxLength: 20 }),
            fc.constantFrom('both', 'string', '0', '-5', '1e9', '2024-01-01T00:00:00Z'),
          ),
        ),
        { maxLength: 4 },
      )
      .map((kv) => kv.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
    const path = fc.oneof(
      fc.tuple(segment, segment).map(([e, id]) => `/v1/snapshots/${e}/vertices/${id}`),
      fc.tuple(segment, segment).map(([e, id]) => `/v1/snapshots/${e}/vertices/${id}/neighbors`),
      fc.tuple(segment, segment).map(([e, p]) => `/v1/snapshots/${e}/partitions/${p}/csr`),
      segment.map((e) => `/v1/epochs/${e}`),
      segment.map((s) => `/v1/${s}`),
    );
    await fc.assert(
      fc.asyncProperty(path, query, fc.boolean(), async (p, q, msgpack) => {
        const url = q.length > 0 ? `${p}?${q}` : p;
        expectNoServerError(await get(app, url, msgpack), url.slice(0, 200));
      }),
      { numRuns: RUNS * 2 },
    );
    for (const id of ['%', 'abc%2', '%00', '%F0%9F%98']) {
      const r = await get(app, `/v1/snapshots/latest/vertices/${id}`);
      expectClientError(r, id);
    }
    await fc.assert(
      fc.asyncProperty(segment, async (id) => {
        expectNoServerError(await app.inject({ method: 'DELETE', url: `/v1/pins/${id}` }), id);
      }),
      { numRuns: RUNS },
    );
  });

  it('the daemon is still up, its data unchanged, and it still takes writes', async () => {
    expect(await observe()).toBe(before);
    expect((await get(app, '/v1/health')).statusCode).toBe(200);
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    const r = await postJson(app, '/v1/batches', { ops: [{ op: 'upsertEdge', src: 1, dst: 3 }] });
    expect(r.statusCode).toBe(200);
    expect(await observe()).not.toBe(before);
  });
});
