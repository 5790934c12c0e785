/**
 * Time travel: PageRank at an epoch e1, then updates (new edges, deleted edges, a deleted
 * vertex, new vertices, across both partitions and over many epochs, with compaction riding
 * along the writes), then PageRank again at e1 and at the latest epoch. The answer at e1 is
 * bit-for-bit the first one; the latest reflects the updates. Both are checked against the
 * PageRank kernel over a CSR built from a model of the edge set in the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../partitions/machine.js';
import { type AlgorithmResult, AnalyticsService, csrFromEdges, pagerank } from '../../src/analytics/index.js';
import { decodeBatch, type Op } from '../../src/model/ops.js';
import { loadGraph, openTestMachine, randomGraph } from '../helpers/analytics-machine.js';
import { rng } from '../helpers/rng.js';

/** The graph as the test believes it is: vertices and unique directed edges. */
class Model {
  readonly vertices = new Set<number>();
  readonly edges = new Set<string>();

  addEdge(a: number, b: number): void {
    this.vertices.add(a);
    this.vertices.add(b);
    this.edges.add(`${a},${b}`);
  }

  deleteVertex(v: number): void {
    this.vertices.delete(v);
    for (const e of [...this.edges]) {
      const [a, b] = e.split(',').map(Number);
      if (a === v || b === v) this.edges.delete(e);
    }
  }

  clone(): Model {
    const m = new Model();
    for (const v of this.vertices) m.vertices.add(v);
    for (const e of this.edges) m.edges.add(e);
    return m;
  }

  /** PageRank by the kernel over a CSR of the model, keyed by id. */
  pagerank(iterations: number): Map<number, number> {
    const ids = [...this.vertices].sort((a, b) => a - b);
    const index = new Map(ids.map((id, i) => [id, i]));
    const src: number[] = [];
    const dst: number[] = [];
    for (const e of this.edges) {
      const [a, b] = e.split(',').map(Number);
      src.push(index.get(a) as number);
      dst.push(index.get(b) as number);
    }
    const ranks = pagerank(
      csrFromEdges(ids.length, Uint32Array.from(src), Uint32Array.from(dst)),
      iterations,
    );
    return new Map(ids.map((id, i) => [id, ranks[i]]));
  }
}

function expectClose(r: AlgorithmResult, want: Map<number, number>): void {
  expect(new Set(r.ids)).toEqual(new Set(want.keys()));
  const bad: string[] = [];
  r.ids.forEach((id, i) => {
    const w = want.get(id as number) as number;
    const v = r.values[i] as number;
    if (!(Math.abs(v - w) <= 1e-12 + 1e-9 * w)) bad.push(`${id}: ${v} vs ${w}`);
  });
  expect(bad).toEqual([]);
}

describe('PageRank time travel through a machine (P = 2)', () => {
  let machine: Machine;
  let close: () => Promise<void>;
  let service: AnalyticsService;

  beforeAll(async () => {
    const opened = await openTestMachine(2);
    machine = opened.machine;
    close = opened.close;
    service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await close?.();
  });

  it('answers at e1 as before the updates, and at the latest epoch with them', async () => {
    const graph = randomGraph(2_000, 12_000, 11);
    const model = new Model();
    for (const v of graph.vertices) model.vertices.add(v);
    graph.edges.src.forEach((a, i) => {
      model.addEdge(a, graph.edges.dst[i]);
    });
    const e1 = await loadGraph(machine, graph, 4);
    const atE1 = model.clone();

    const first = await service.run('pagerank', { iterations: 20 }, e1);
    expectClose(first, atE1.pagerank(20));
    const wccFirst = await service.run('wcc', {}, e1);

    // While the updates below stream in (partition workers applying, sealing and compacting
    // in their threads), pool workers keep reading e1 from the same shared buffers: every
    // answer must be the first one.
    let writing = true;
    const during: { pr: unknown[]; wcc: unknown[] } = { pr: [], wcc: [] };
    const readers = (async () => {
      while (writing) {
        during.pr.push(await service.run('pagerank', { iterations: 20 }, e1));
        during.wcc.push(await service.run('wcc', {}, e1));
      }
    })();

    // Updates over many epochs: new vertices and edges, deleted edges, deleted vertices.
    const rand = rng(12345);
    let latest = e1;
    for (let round = 0; round < 25; round++) {
      const ops: Op[] = [];
      for (let i = 0; i < 400; i++) {
        const a = rand(2_300); // ids past 1999 are new vertices
        const b = rand(2_300);
        if (a === b) continue;
        ops.push({ op: 'upsertEdge', src: a, dst: b });
        model.addEdge(a, b);
      }
      const edges = [...model.edges];
      for (let i = 0; i < 150; i++) {
        const e = edges[rand(edges.length)];
        if (!model.edges.has(e)) continue;
        const [a, b] = e.split(',').map(Number);
        ops.push({ op: 'deleteEdge', src: a, dst: b });
        model.edges.delete(e);
      }
      if (round % 5 === 2) {
        const v = rand(2_000);
        ops.push({ op: 'deleteVertex', id: v });
        model.deleteVertex(v);
      }
      latest = (await machine.submit(decodeBatch({ ops }))).epoch;
    }
    expect(latest).toBeGreaterThan(e1 + 20);
    // The updates changed the graph a lot: thousands of edges in and out.
    let kept = 0;
    for (const e of atE1.edges) if (model.edges.has(e)) kept++;
    expect(atE1.edges.size - kept).toBeGreaterThan(1_000);
    expect(model.edges.size - kept).toBeGreaterThan(5_000);
    writing = false;
    await readers;
    expect(during.pr.length).toBeGreaterThan(0);
    for (const r of during.pr) expect(r).toEqual(first);
    for (const r of during.wcc) expect(r).toEqual(wccFirst);

    const [again, now] = await Promise.all([
      service.run('pagerank', { iterations: 20 }, e1),
      service.run('pagerank', { iterations: 20 }, latest),
    ]);
    expect(again).toEqual(first);
    expect(now.epoch).toBe(latest);
    expectClose(now, model.pagerank(20));
    expect(now.ids.length).not.toBe(first.ids.length);

    // The other algorithms read the same epochs: WCC at e1 is still e1's.
    const wccThen = await service.run('wcc', {}, e1);
    expect(new Set(wccThen.ids)).toEqual(new Set(atE1.vertices));
  });
});
