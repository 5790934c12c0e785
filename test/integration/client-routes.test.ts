/**
 * The client against a real daemon: every route in msgpack and in JSON with the same answers,
 * typed errors rebuilt from error bodies, `withPinnedEpoch` keeping an epoch readable past
 * retention and then releasing it, neighbour pages from one snapshot while writes go on, and
 * the partition CSR export decoded as it streams (checked against the edges written and
 * against the JSON export). The streaming msgpack decoder is also checked against msgpackr
 * on random values cut into random chunks.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EpochgraphClient as Client,
  decodeMsgpackStream,
  EpochgraphClient,
  EpochgraphError,
  type ExternalId,
  type PartitionCsr,
  valueAt,
} from '../../src/client/index.js';
import { packMsgpack, unpackMsgpack } from '../../src/codec/msgpack.js';
import { startTestDaemon, type TestDaemon } from '../helpers/cli-daemon.js';

let d: TestDaemon;
let mp: Client;
let js: Client;
let base: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Edges of a small random graph with integer and string ids. */
const N_EDGES = 20_000;
const src = new Float64Array(N_EDGES);
const dst = new Float64Array(N_EDGES);

beforeAll(async () => {
  d = await startTestDaemon({ retainMs: 200 });
  mp = new EpochgraphClient({ server: d.server });
  js = new EpochgraphClient({ server: d.server, encoding: 'json' });
  let x = 7;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % 3000;
  };
  for (let i = 0; i < N_EDGES; i++) {
    src[i] = rnd();
    dst[i] = rnd();
  }
  base = (
    await mp.submitBatch({ edges: { src, dst, props: { weight: Float64Array.from(src, (s) => s / 10) } } })
  ).epoch;
  await mp.submitBatch({
    ops: [
      { op: 'upsertVertex', id: 'ann', label: 'person', props: { age: 31, emb: [0.5, 0.25] } },
      { op: 'upsertEdge', src: 'ann', dst: 'bob', label: 'knows', props: { since: 2020 } },
      { op: 'upsertEdge', src: 'ann', dst: 1, label: 'knows' },
    ],
  });
});
afterAll(async () => {
  await d?.close();
});

/** The expected set of `s>d` pairs. */
/** Add a partition CSR's rows to `out` as "row<sep>neighbour" strings. */
function csrPairs(c: PartitionCsr, sep: string, out: Set<string>): void {
  for (let r = 0; r < c.ids.length; r++) {
    for (let k = c.offsets[r]; k < c.offsets[r + 1]; k++) out.add(`${c.ids[r]}${sep}${c.neighbors[k]}`);
  }
}

function edgeSet(s: ArrayLike<ExternalId>, t: ArrayLike<ExternalId>): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < s.length; i++) out.add(`${s[i]}>${t[i]}`);
  return out;
}

describe('every route, msgpack and JSON alike', () => {
  it('health, ready, epochs, epoch, schema', async () => {
    for (const c of [mp, js]) {
      expect((await c.health()).status).toBe('ok');
      expect((await c.ready()).ready).toBe(true);
      const e = await c.epochs();
      expect(e.partitions).toHaveLength(2);
      expect(e.latest).toBeGreaterThan(base);
      // Retention is 200 ms here, so an epoch read by number is pinned first (the retention
      // pass, once a second, took `base` itself on a loaded machine).
      await c.withPinnedEpoch(
        async (pinned) => {
          const one = await c.epoch({ epoch: pinned });
          expect(one.epoch).toBe(pinned);
          const asOf = await c.epoch({ asOf: new Date(Date.parse(one.sealedAt)) });
          expect(asOf.epoch).toBeGreaterThanOrEqual(pinned);
        },
        { ttlMs: 30_000 },
      );
      const schema = await c.schema();
      expect(schema.vertexLabels.find((l) => l.name === 'person')?.properties).toEqual([
        { name: 'age', type: 'float64' },
        { name: 'emb', type: 'vector', length: 2 },
      ]);
    }
  });

  it('vertex and neighbours (typed columns become plain ids), batch neighbours, subgraph', async () => {
    for (const c of [mp, js]) {
      const ann = await c.vertex('ann');
      expect(ann).toMatchObject({ id: 'ann', label: 'person', outDegree: 2 });
      expect(ann.props.age).toBe(31);
      expect(Array.from(ann.props.emb as ArrayLike<number>)).toEqual([0.5, 0.25]);
      const page = await c.neighbors('ann', { props: ['since'] });
      expect(page.neighbors).toEqual(['bob', 1]);
      expect(page.props).toEqual([{ since: 2020 }, {}]);
      const rows = await c.batchNeighbors(['ann', 'nobody', 'bob'], { direction: 'in' });
      expect(Array.from(rows.offsets)).toEqual([0, 0, 0, 1]);
      expect(Array.from(rows.missing)).toEqual([1]);
      expect(Array.from(rows.neighbors)).toEqual(['ann']);
      const g = await c.subgraph(['ann'], { hops: 1 });
      expect(new Set(Array.from(g.vertices))).toEqual(new Set(['ann', 'bob', 1]));
      expect(g.truncated).toBe(false);
    }
    const typed = await mp.batchNeighbors(Float64Array.of(src[0]));
    expect(typed.neighbors).toBeInstanceOf(Float64Array);
    expect(typed.offsets).toBeInstanceOf(Float64Array);
  });

  it('a string of digits is sent as a string id', async () => {
    await mp.submitBatch({ ops: [{ op: 'upsertVertex', id: '0042', label: 'code' }] });
    expect((await mp.vertex('0042')).label).toBe('code');
    await expect(mp.vertex(42)).rejects.toMatchObject({ code: 'VERTEX_NOT_FOUND' });
  });

  it('errors are EpochgraphError with code, status and details, in both encodings', async () => {
    for (const c of [mp, js]) {
      const future = await c.vertex(1, { epoch: 10 ** 9 }).catch((e: unknown) => e);
      expect(future).toBeInstanceOf(EpochgraphError);
      expect(future).toMatchObject({ code: 'EPOCH_NOT_FOUND', status: 404, details: { epoch: 10 ** 9 } });
      const bad = await c
        .submitBatch({ ops: [{ op: 'upsertEdge', src: -1, dst: 2 }] })
        .catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
      await expect(c.runAlgorithm('bfs', { source: 'nobody' })).rejects.toMatchObject({
        code: 'VERTEX_NOT_FOUND',
      });
    }
  });

  it('algorithms: ids and values in both encodings, NaN read as null', async () => {
    const a = await mp.runAlgorithm('bfs', { source: 'ann', top: 5 });
    const b = await js.runAlgorithm('bfs', { source: 'ann', top: 5 });
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(Array.from({ length: a.values.length }, (_, i) => valueAt(a.values, i))).toEqual(
      Array.from({ length: b.values.length }, (_, i) => valueAt(b.values, i)),
    );
    expect(a.ids[0]).toBe('ann');
    const all = await mp.runAlgorithm('bfs', { source: 'bob' });
    expect(all.values).toBeInstanceOf(Float64Array);
    const unreachable = Array.from(all.ids).indexOf('ann');
    expect(valueAt(all.values, unreachable)).toBeNull();
  });
});

describe('partition CSR export', () => {
  it('decodes a streamed msgpack export of MBs straight into typed arrays, equal to JSON and to the edges written', async () => {
    // A daemon that never saw a string id, so every id column is a typed array.
    const ints = await startTestDaemon();
    try {
      const c = new EpochgraphClient({ server: ints.server });
      const cj = new EpochgraphClient({ server: ints.server, encoding: 'json' });
      const n = 200_000;
      const s = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 50_000);
      const t = Float64Array.from({ length: n }, (_, i) => (i * 104_729 + 13) % 50_000);
      const { epoch } = await c.submitBatch({ edges: { src: s, dst: t } });
      const got = new Set<string>();
      for (const p of [0, 1]) {
        const a = await c.partitionCsr(p, { epoch });
        const b = await cj.partitionCsr(p);
        expect(a.epoch).toBe(epoch);
        expect(a.ids).toBeInstanceOf(Float64Array);
        expect(a.offsets).toBeInstanceOf(Float64Array);
        expect(a.neighbors).toBeInstanceOf(Float64Array);
        expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
        expect(Array.from(a.offsets)).toEqual(Array.from(b.offsets));
        expect(Array.from(a.neighbors)).toEqual(Array.from(b.neighbors));
        csrPairs(a, '>', got);
      }
      expect(got).toEqual(edgeSet(s, t));
    } finally {
      await ints.close();
    }
  });

  it('decodes mixed id columns (msgpack arrays) equal to the JSON export', async () => {
    const got = new Set<string>();
    await mp.withPinnedEpoch(
      async (epoch) => {
        for (const p of [0, 1]) {
          const a = await mp.partitionCsr(p, { epoch });
          const b = await js.partitionCsr(p, { epoch });
          expect(a.epoch).toBe(epoch);
          expect(a.offsets).toBeInstanceOf(Float64Array);
          expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
          expect(Array.from(a.offsets)).toEqual(Array.from(b.offsets));
          expect(Array.from(a.neighbors)).toEqual(Array.from(b.neighbors));
          csrPairs(a, '>', got);
        }
      },
      { ttlMs: 30_000 },
    );
    expect(got).toEqual(new Set([...edgeSet(src, dst), 'ann>bob', 'ann>1']));
  });

  it('decodes string ids (msgpack arrays) too', async () => {
    const parts = await Promise.all(
      [0, 1].map((p) => mp.partitionCsr(p, { direction: 'in', label: 'knows' })),
    );
    const pairs = new Set<string>();
    for (const c of parts) csrPairs(c, '<', pairs);
    expect(pairs).toEqual(new Set(['bob<ann', '1<ann']));
  });
});

describe('pins and pages', () => {
  it('withPinnedEpoch keeps an epoch readable past retention, then releases the pin', async () => {
    const e1 = (await mp.submitBatch({ ops: [{ op: 'upsertEdge', src: 'p', dst: 'q' }] })).epoch;
    let pinId = '';
    const seen = await mp.withPinnedEpoch(
      async (epoch, pin) => {
        pinId = pin.pin;
        expect(epoch).toBe(e1);
        await mp.submitBatch({ ops: [{ op: 'deleteEdge', src: 'p', dst: 'q' }] });
        await mp.submitBatch({ ops: [{ op: 'upsertEdge', src: 'p', dst: 'r' }] });
        await sleep(1600); // retention is 200 ms; the retention pass runs every second
        expect((await mp.epochs()).oldest).toBeLessThanOrEqual(e1);
        return (await mp.neighbors('p', { epoch })).neighbors;
      },
      { ttlMs: 60_000 },
    );
    expect(seen).toEqual(['q']);
    expect((await mp.neighbors('p')).neighbors).toEqual(['r']);
    // Released: the pin is gone, and so is its epoch once retention passes again.
    await expect(mp.deletePin(pinId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await sleep(1600);
    await expect(mp.neighbors('p', { epoch: e1 })).rejects.toMatchObject({ code: 'EPOCH_GONE', status: 410 });
  });

  it('withPinnedEpoch releases the pin when fn throws, and rethrows', async () => {
    let pinId = '';
    await expect(
      mp.withPinnedEpoch(
        (_e, pin) => {
          pinId = pin.pin;
          throw new Error('boom');
        },
        { ttlMs: 60_000 },
      ),
    ).rejects.toThrow('boom');
    await expect(mp.deletePin(pinId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('neighborPages follows cursors within the first page’s epoch while writes go on', async () => {
    const hub = 'hub';
    const first = await mp.submitBatch({
      edges: {
        src: Array.from({ length: 25 }, () => hub),
        dst: Float64Array.from({ length: 25 }, (_, i) => 5000 + i),
      },
    });
    const pages: ExternalId[][] = [];
    const epochs = new Set<number>();
    for await (const page of mp.neighborPages(hub, { limit: 7 })) {
      pages.push(page.neighbors);
      epochs.add(page.epoch);
      // A write between pages must not leak into the listing.
      await mp.submitBatch({ ops: [{ op: 'upsertEdge', src: hub, dst: 9000 + pages.length }] });
    }
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
    expect(epochs).toEqual(new Set([first.epoch]));
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => 5000 + i));
    const all: ExternalId[] = [];
    for await (const page of js.neighborPages(hub, { limit: 10 })) all.push(...page.neighbors);
    expect(all).toHaveLength(29);
  });
});

describe('decodeMsgpackStream', () => {
  const value = fc.letrec((tie) => ({
    scalar: fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ noNaN: true }),
      fc.string({ maxLength: 300 }),
      fc.boolean(),
      fc.constant(null),
    ),
    typed: fc.oneof(
      fc.float64Array({ maxLength: 200, noNaN: true }),
      fc.uint32Array({ maxLength: 100 }),
      fc.float32Array({ maxLength: 50, noNaN: true }),
    ),
    array: fc.array(tie('any'), { maxLength: 8 }),
    map: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'),
      tie('any'),
      {
        maxKeys: 6,
      },
    ),
    any: fc.oneof({ depthSize: 'small' }, tie('scalar'), tie('typed'), tie('array'), tie('map')),
  })).any;

  it('decodes what the codec encodes, however the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        value,
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        async (v, cuts) => {
          const bytes = packMsgpack(v);
          const chunks: Uint8Array[] = [];
          for (let i = 0, k = 0; i < bytes.length; k++) {
            const n = cuts[k % cuts.length];
            chunks.push(bytes.slice(i, i + n));
            i += n;
          }
          async function* source() {
            yield* chunks;
          }
          expect(await decodeMsgpackStream(source())).toEqual(unpackMsgpack(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects truncated streams and trailing bytes', async () => {
    const bytes = packMsgpack({ ids: Float64Array.of(1, 2, 3) });
    async function* cut() {
      yield bytes.slice(0, bytes.length - 3);
    }
    await expect(decodeMsgpackStream(cut())).rejects.toThrow(/ended inside a value/);
    async function* extra() {
      yield bytes;
      yield Uint8Array.of(1);
    }
    await expect(decodeMsgpackStream(extra())).rejects.toThrow(/bytes follow the value/);
  });
});
