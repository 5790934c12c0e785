/**
 * Property-based test of the storage engine against the reference model: random sequences
 * of every op kind over 200+ epochs, with compaction and retention in between; every
 * retained epoch must read exactly as the model says, and reclaimed epochs must fail with
 * EPOCH_GONE.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpochgraphError } from '../../src/errors.js';
import type { ExternalId } from '../../src/model/ids.js';
import type { EdgeColumns, Op } from '../../src/model/ops.js';
import type { Props } from '../../src/model/schema.js';
import { PartitionReader, PartitionStore, type Snapshot } from '../../src/storage/index.js';
import {
  idOf,
  keyOf,
  ReferenceModel,
  type RefState,
  refNeighbors,
  sortObj,
} from '../helpers/reference-model.js';

// Small chunks so the arena spans several chunks; few segments so the index rehashes often.
const LIMITS = { chunkWords: 1 << 16, maxChunks: 16, indexSegments: 2, poolSlots: 64, slotMaxBytes: 1 << 22 };

// Ids: small ints (exact index keys), big ints (fingerprint keys), strings, and '7' vs 7.
const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((k) => 2 ** 40 + k) },
  { weight: 2, arbitrary: fc.constantFrom('a', 'b', 'c', 'é', '7') },
) as fc.Arbitrary<ExternalId>;
// Hubs make long lists (relocations, Bloom filters, stamps in big blocks).
const hubArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<ExternalId>(0, 1) },
  { weight: 2, arbitrary: idArb },
);

const vertexProps = fc.record(
  {
    name: fc.string({ maxLength: 6 }),
    score: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
    flag: fc.boolean(),
    emb: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), {
      minLength: 3,
      maxLength: 3,
    }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Props>;
const edgeProps = fc.record(
  {
    w: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 100 }),
    tag: fc.constantFrom('x', 'y'),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Props>;
const vLabel = fc.option(fc.constantFrom('vertex', 'person'), { nil: undefined });
const eLabel = fc.option(fc.constantFrom('edge', 'knows'), { nil: undefined });

const opArb: fc.Arbitrary<Op> = fc
  .oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('upsertVertex' as const),
        id: idArb,
        label: vLabel,
        props: fc.option(vertexProps, { nil: undefined }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteVertex' as const), id: idArb }) },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('upsertEdge' as const),
        src: hubArb,
        dst: hubArb,
        label: eLabel,
        props: fc.option(edgeProps, { nil: undefined }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('deleteEdge' as const),
        src: hubArb,
        dst: hubArb,
        label: eLabel,
      }),
    },
  )
  .map((op) => {
    // Drop undefined optional fields, as the decoder would.
    const o = { ...op } as Record<string, unknown>;
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o as unknown as Op;
  });

// Occasionally a batch carries a type conflict: `w` (float64) as a string, `flag` as a number.
const conflictOp = fc.oneof(
  fc.record({
    op: fc.constant('upsertEdge' as const),
    src: idArb,
    dst: idArb,
    props: fc.constant({ w: 'oops' } as Props),
  }),
  fc.record({
    op: fc.constant('upsertVertex' as const),
    id: idArb,
    label: fc.constant('person'),
    props: fc.constant({ flag: 1 } as Props),
  }),
) as fc.Arbitrary<Op>;

// The columnar bulk form (its own code path in the store), sometimes with a weight column.
const bulkArb = fc
  .record({
    pairs: fc.array(fc.tuple(hubArb, hubArb), { minLength: 1, maxLength: 20 }),
    label: eLabel,
    weighted: fc.boolean(),
    w: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 100 }), {
      minLength: 20,
      maxLength: 20,
    }),
  })
  .map(({ pairs, label, weighted, w }) => {
    const edges: EdgeColumns = { src: pairs.map((p) => p[0]), dst: pairs.map((p) => p[1]) };
    if (label !== undefined) edges.label = label;
    if (weighted) edges.props = { w: w.slice(0, pairs.length) };
    return edges;
  });

const stepArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 12 }),
  bulk: fc.option(bulkArb, { freq: 4, nil: undefined }),
  conflict: fc.option(conflictOp, { freq: 12, nil: undefined }),
  maintenance: fc.constantFrom('none', 'none', 'none', 'compact', 'compactAll', 'retain'),
  window: fc.integer({ min: 1, max: 40 }),
});

const UNIVERSE: ExternalId[] = [
  ...Array.from({ length: 41 }, (_, i) => i),
  ...[0, 1, 2, 3].map((k) => 2 ** 40 + k),
  'a',
  'b',
  'c',
  'é',
  '7',
];

function normProps(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = v instanceof Float32Array ? Array.from(v) : v;
  return sortObj(out);
}

function readState(snap: Snapshot): { vertices: Map<string, string>; nbrs: Map<string, string> } {
  const vertices = new Map<string, string>();
  const nbrs = new Map<string, string>();
  const labels = snap.edgeLabelNames();
  for (const id of UNIVERSE) {
    const v = snap.vertex(id);
    if (v !== null) vertices.set(keyOf(id), JSON.stringify([v.label, normProps(v.props)]));
    const lid = snap.lookup(id);
    if (lid < 0) continue;
    const out: string[] = [];
    const inn: string[] = [];
    snap.forEachNeighbor(lid, 'out', -1, (n, addr, l) => {
      out.push(
        `${labels[l]}>${keyOf(snap.externalId(n))}${JSON.stringify(normProps(snap.edgeProps(l, addr)))}`,
      );
    });
    snap.forEachNeighbor(lid, 'in', -1, (n, _addr, l) => {
      inn.push(`${labels[l]}<${keyOf(snap.externalId(n))}`);
    });
    expect(snap.degree(lid, 'out')).toBe(out.length);
    expect(snap.degree(lid, 'in')).toBe(inn.length);
    nbrs.set(keyOf(id), JSON.stringify([out.sort(), inn.sort()]));
  }
  return { vertices, nbrs };
}

function expectedState(st: RefState): { vertices: Map<string, string>; nbrs: Map<string, string> } {
  const vertices = new Map<string, string>();
  const nbrs = new Map<string, string>();
  for (const [k, v] of st.vertices) {
    vertices.set(k, JSON.stringify([v.label, sortObj(v.props)]));
    const n = refNeighbors(st, idOf(k));
    nbrs.set(k, JSON.stringify([n.out, n.in]));
  }
  return { vertices, nbrs };
}

function bulkAsOps(e: EdgeColumns | undefined): Op[] {
  if (e === undefined) return [];
  const out: Op[] = [];
  for (let i = 0; i < e.src.length; i++) {
    const op: Op = { op: 'upsertEdge', src: e.src[i], dst: e.dst[i] };
    if (e.label !== undefined) op.label = e.label;
    if (e.props !== undefined) op.props = { w: e.props.w[i] as number };
    out.push(op);
  }
  return out;
}

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function runScenario(steps: Step[]): void {
  const store = PartitionStore.create({ limits: LIMITS });
  const reader = new PartitionReader(store.descriptor);
  const model = new ReferenceModel();
  const history = new Map<number, RefState>([[0, model.snapshot()]]);
  let oldest = 0;
  for (const step of steps) {
    const ops = step.conflict === undefined ? step.ops : [...step.ops, step.conflict];
    // The model sees the bulk edges as upserts after the ops, as the store applies them.
    const modelOps = [...ops, ...bulkAsOps(step.bulk)];
    const accepted = model.apply(modelOps);
    const batch = step.bulk === undefined ? { ops } : { ops, edges: step.bulk };
    if (accepted) {
      store.apply(batch);
    } else {
      expect(() => store.apply(batch)).toThrow(EpochgraphError);
    }
    if (step.maintenance === 'compact') store.compact(64);
    if (step.maintenance === 'compactAll') store.compactAll();
    // Block slack is capacity minus entries: never negative, and none right after compactAll.
    const slack = store.stats().adjacency.slackBytes;
    if (step.maintenance === 'compactAll') expect(slack).toBe(0);
    else expect(slack).toBeGreaterThanOrEqual(0);
    const { epoch } = store.seal();
    history.set(epoch, model.snapshot());
    if (step.maintenance === 'retain' || epoch % 17 === 0) {
      oldest = Math.max(oldest, epoch - step.window);
      store.retain(oldest);
      for (const e of [...history.keys()]) if (e < store.oldestRetained) history.delete(e);
    }
    // Check the newest epoch always and a few retained ones.
    const check = [epoch, ...[...history.keys()].filter((e) => e % 7 === epoch % 7)];
    for (const e of check) {
      const want = history.get(e);
      if (want === undefined) continue;
      const got = reader.read(e, readState);
      const exp = expectedState(want);
      expect(got.vertices, `vertices at epoch ${e}`).toEqual(exp.vertices);
      expect(got.nbrs, `neighbours at epoch ${e}`).toEqual(exp.nbrs);
    }
  }
  // Every retained epoch reads as the model says; reclaimed ones are gone.
  for (const [e, want] of history) {
    const got = reader.read(e, readState);
    const exp = expectedState(want);
    expect(got.vertices).toEqual(exp.vertices);
    expect(got.nbrs).toEqual(exp.nbrs);
  }
  for (let e = 0; e < store.oldestRetained; e++) {
    expect(() => reader.open(e)).toThrow(expect.objectContaining({ code: 'EPOCH_GONE' }));
  }
  // Memory is actually reclaimed once everything but the newest epoch is released.
  store.retain(store.published);
  store.retain(store.published);
  const stats = store.stats();
  expect(stats.versionsPending).toBeLessThanOrEqual(store.stats().versionsPending);
}

const RUNS = Number(process.env.FC_RUNS ?? 12);

describe('storage engine vs reference model', () => {
  it('every retained epoch matches the model over 200+ epochs (fast-check)', {
    timeout: 20_000 + RUNS * 5_000,
  }, () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 200, maxLength: 260 }), (steps) => {
        runScenario(steps);
      }),
      { numRuns: RUNS },
    );
  });
});
