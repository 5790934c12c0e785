/**
 * The AnalyticsService's operations against a real machine: cancellation through an
 * AbortSignal and timeouts (a long PageRank is stopped by terminating its worker, whose
 * snapshots are released from the partitions' reader registries, and the pool keeps
 * working), the bounded queue (NOT_READY with retryAfterSec), typed errors crossing the worker
 * boundary, the epoch pin hook, results keyed by string ids, `top`, typed columns and metrics.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../partitions/machine.js';
import { AnalyticsService, type EpochPin } from '../../src/analytics/index.js';
import { decodeBatch } from '../../src/model/ops.js';
import { scanReaders } from '../../src/storage/reader-registry.js';
import { loadGraph, openTestMachine, randomGraph } from '../helpers/analytics-machine.js';
import { rejection } from '../helpers/rejection.js';

/** Registered readers in each partition (open snapshots anywhere). */
function openReaders(m: Machine): number[] {
  return m.descriptors().map((d) => scanReaders(new Uint32Array(d.ctl)).active);
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A run that takes many seconds: PageRank with 10 000 iterations over 300 K edges. */
const SLOW = { iterations: 10_000 };

describe('analytics service: cancellation, timeout, queue bound', () => {
  let machine: Machine;
  let close: () => Promise<void>;
  let epoch: number;

  beforeAll(async () => {
    const opened = await openTestMachine(2);
    machine = opened.machine;
    close = opened.close;
    epoch = await loadGraph(machine, randomGraph(30_000, 300_000, 7), 3);
  });

  afterAll(async () => {
    await close?.();
  });

  it('cancels a running run by its signal, releases its snapshots, and keeps serving', async () => {
    const service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 1 });
    try {
      const ac = new AbortController();
      const t0 = performance.now();
      const run = service.run('pagerank', SLOW, epoch, { signal: ac.signal });
      // The worker holds one open snapshot per partition while it runs.
      await until('the run to open its snapshots', () => openReaders(machine).every((n) => n >= 1));
      ac.abort();
      const err = await rejection(run);
      expect(err.code).toBe('NOT_READY');
      expect(err.details).toMatchObject({ reason: 'cancelled' });
      expect(performance.now() - t0).toBeLessThan(5_000);
      // The terminated worker's registry slots are released once the thread has exited.
      await until('the slots to be released', () => openReaders(machine).every((n) => n === 0));
      expect(service.stats().releasedReaderSlots).toBe(2);
      // The pool replaced the worker: the next run works.
      const r = await service.run('wcc', {}, epoch);
      expect(r.ids.length).toBe(30_000);
      // Errors cross the worker boundary as data and come back typed.
      expect((await rejection(service.run('wcc', {}, epoch + 1000))).code).toBe('EPOCH_NOT_FOUND');
      const s = service.stats().byAlgorithm;
      expect(s.pagerank).toMatchObject({ started: 1, cancelled: 1, finished: 0 });
      expect(s.wcc).toMatchObject({ started: 2, finished: 1, failed: 1 });
      expect(openReaders(machine)).toEqual([0, 0]);
    } finally {
      await service.close();
    }
  });

  it('times a run out', async () => {
    const service = new AnalyticsService({
      descriptors: machine.descriptors(),
      poolSize: 1,
      timeoutMs: 30_000,
    });
    try {
      const t0 = performance.now();
      const err = await rejection(service.run('pagerank', SLOW, epoch, { timeoutMs: 300 }));
      expect(err.code).toBe('NOT_READY');
      expect(err.details).toMatchObject({ reason: 'timeout', timeoutMs: 300 });
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(service.stats().byAlgorithm.pagerank.timedOut).toBe(1);
      await until('the slots to be released', () => openReaders(machine).every((n) => n === 0));
    } finally {
      await service.close();
    }
  });

  it('refuses runs beyond the queue bound with NOT_READY and retryAfterSec, and drops queued runs on abort', async () => {
    const service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 1, maxQueued: 1 });
    try {
      const a = new AbortController();
      const b = new AbortController();
      const running = service.run('pagerank', SLOW, epoch, { signal: a.signal });
      const queued = service.run('pagerank', SLOW, epoch, { signal: b.signal });
      const err = await rejection(service.run('wcc', {}, epoch));
      expect(err.code).toBe('NOT_READY');
      const details = err.details as { retryAfterSec: number; limit: number };
      expect(details.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(details.limit).toBe(2);
      expect(service.stats()).toMatchObject({ active: 2, queued: 1 });
      b.abort();
      expect((await rejection(queued)).details).toMatchObject({ reason: 'cancelled' });
      a.abort();
      expect((await rejection(running)).details).toMatchObject({ reason: 'cancelled' });
      expect(service.stats().byAlgorithm.wcc.rejected).toBe(1);
      expect(service.stats().byAlgorithm.pagerank.cancelled).toBe(2);
      expect(service.stats().active).toBe(0);
      // Room again.
      expect((await service.run('wcc', { top: 1 }, epoch)).ids).toEqual([0]);
    } finally {
      await service.close();
    }
  });

  it('a service closed right after it starts waits for its threads to load, then serves no more', async () => {
    // Terminating a thread while its ES modules evaluate aborts the process on Node 20: close()
    // must wait for each thread's own "loaded" word (the test process surviving is the check).
    for (let k = 0; k < 5; k++) {
      const service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 2 });
      await service.close();
      expect((await rejection(service.run('wcc', {}, epoch))).code).toBe('NOT_READY');
    }
  });

  it('rejects a run whose signal is already aborted, and runs after close', async () => {
    const service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 1 });
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(service.run('wcc', {}, epoch, { signal: ac.signal }))).code).toBe('NOT_READY');
    const pending = rejection(service.run('pagerank', SLOW, epoch));
    await service.close();
    expect((await pending).code).toBe('NOT_READY');
    expect((await rejection(service.run('wcc', {}, epoch))).code).toBe('NOT_READY');
  });
});

describe('analytics service: requests, errors and results', () => {
  let machine: Machine;
  let close: () => Promise<void>;
  let service: AnalyticsService;
  let registry: Registry;
  let epoch: number;
  const pins: { asked: number; ttlMs: number; released: number }[] = [];

  beforeAll(async () => {
    const opened = await openTestMachine(2);
    machine = opened.machine;
    close = opened.close;
    // Mixed id types, an isolated vertex, a star (ties in PageRank) and a weighted path.
    epoch = (
      await machine.submit(
        decodeBatch({
          ops: [
            { op: 'upsertVertex', id: 'lonely' },
            { op: 'upsertEdge', src: 'hub', dst: 3, props: { weight: 1 } },
            { op: 'upsertEdge', src: 'hub', dst: 1, props: { weight: 2 } },
            { op: 'upsertEdge', src: 'hub', dst: 'b', props: { weight: 3 } },
            { op: 'upsertEdge', src: 'hub', dst: 'a', props: { weight: 4 } },
            { op: 'upsertEdge', src: 1, dst: 'hub', props: { weight: 0.5 } },
            { op: 'upsertEdge', src: 'x', dst: 'y', props: { weight: 1 } },
            { op: 'upsertEdge', src: 'y', dst: 'z', props: { weight: 2 } },
          ],
        }),
      )
    ).epoch;
    registry = new Registry();
    service = new AnalyticsService({
      descriptors: machine.descriptors(),
      poolSize: 2,
      registry,
      pinEpoch(e, ttlMs): EpochPin {
        const pin = machine.pin(e, ttlMs);
        const record = { asked: e, ttlMs, released: 0 };
        pins.push(record);
        return {
          epoch: pin.epoch,
          release: () => {
            record.released++;
            machine.unpin(pin.id);
          },
        };
      },
    });
  });

  afterAll(async () => {
    await service?.close();
    await close?.();
  });

  it('labels components by their smallest id, strings included (integers order before strings)', async () => {
    const r = await service.run('wcc', {}, epoch);
    const label = new Map(r.ids.map((id, i) => [id, r.values[i]]));
    expect(r.ids.length).toBe(9);
    for (const id of ['hub', 3, 1, 'a', 'b']) expect(label.get(id)).toBe(1);
    for (const id of ['x', 'y', 'z']) expect(label.get(id)).toBe('x');
    expect(label.get('lonely')).toBe('lonely');
    const typed = await service.runTyped('wcc', {}, epoch);
    expect(Array.isArray(typed.ids)).toBe(true);
    expect(Array.isArray(typed.values)).toBe(true);
    expect(typed.vertices).toBe(9);
  });

  it('returns null for unreachable vertices (NaN in the typed form) and sorts `top` nearest first', async () => {
    const r = await service.run('bfs', { source: 'hub' }, epoch);
    const hops = new Map(r.ids.map((id, i) => [id, r.values[i]]));
    expect(hops.get('hub')).toBe(0);
    expect(hops.get(1)).toBe(1);
    expect(hops.get('x')).toBeNull();
    const typed = await service.runTyped('bfs', { source: 'hub' }, epoch);
    expect(typed.values).toBeInstanceOf(Float64Array);
    expect(
      Number.isNaN((typed.values as Float64Array)[(typed.ids as (number | string)[]).indexOf('x')]),
    ).toBe(true);
    // Ties at distance 1 go to the smaller id: integers first, then strings.
    const top = await service.run('bfs', { source: 'hub', top: 4 }, epoch);
    expect(top).toEqual({ epoch, algorithm: 'bfs', ids: ['hub', 1, 3, 'a'], values: [0, 1, 1, 1] });
    const all = await service.run('bfs', { source: 'hub', top: 100 }, epoch);
    expect(all.ids.length).toBe(5); // the unreachable are never "best"
  });

  it('ranks PageRank `top` best first with ties by id, equal to the head of the full answer', async () => {
    const full = await service.run('pagerank', {}, epoch);
    const top = await service.run('pagerank', { top: 3 }, epoch);
    const order = full.ids
      .map((id, i) => ({ id, v: full.values[i] as number }))
      .sort(
        (p, q) =>
          q.v - p.v ||
          (typeof p.id === typeof q.id ? (p.id < q.id ? -1 : 1) : typeof p.id === 'number' ? -1 : 1),
      );
    expect(top.ids).toEqual(order.slice(0, 3).map((o) => o.id));
    expect(top.values).toEqual(order.slice(0, 3).map((o) => o.v));
  });

  it('reads SSSP weights from an edge property and names an edge without one', async () => {
    const r = await service.run('sssp', { source: 1 }, epoch);
    const dist = new Map(r.ids.map((id, i) => [id, r.values[i]]));
    expect(dist.get('hub')).toBe(0.5);
    expect(dist.get('a')).toBe(4.5);
    expect(dist.get('x')).toBeNull();
    expect((await service.run('sssp', { source: 'x', top: 3 }, epoch)).values).toEqual([0, 1, 3]);
    // A later epoch adds an edge without a weight: SSSP there refuses, naming the edge by ids;
    // the earlier epoch is untouched.
    const later = (await machine.submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 'y', dst: 'q' }] })))
      .epoch;
    const err = await rejection(service.run('sssp', { source: 'x' }, later));
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.details).toMatchObject({ weight: 'weight', edge: { src: 'y', dst: 'q' } });
    expect((await service.run('sssp', { source: 1 }, epoch)).values).toEqual(r.values);
    const other = await rejection(service.run('sssp', { source: 1, weight: 'cost' }, epoch));
    expect(other.code).toBe('INVALID_REQUEST');
  });

  it('maps bad requests to typed errors, also across the worker boundary', async () => {
    expect((await rejection(service.run('nope', {}, epoch))).code).toBe('NOT_FOUND');
    const bad = await rejection(service.run('pagerank', { iterations: -1, damping: 2 }, epoch));
    expect(bad.code).toBe('INVALID_REQUEST');
    const issues = (bad.details as { issues: { path: (string | number)[] }[] }).issues;
    expect(issues.map((i) => i.path.join('.')).sort()).toEqual(['damping', 'iterations']);
    expect((await rejection(service.run('bfs', {}, epoch))).code).toBe('INVALID_REQUEST');
    expect((await rejection(service.run('wcc', { colour: 'red' }, epoch))).code).toBe('INVALID_REQUEST');
    expect((await rejection(service.run('bfs', { source: -3 }, epoch))).code).toBe('INVALID_REQUEST');
    expect((await rejection(service.run('wcc', { top: 0 }, epoch))).code).toBe('INVALID_REQUEST');
    expect((await rejection(service.run('wcc', {}, 1.5))).code).toBe('INVALID_REQUEST');
    const missing = await rejection(service.run('bfs', { source: 'ghost' }, epoch));
    expect(missing.code).toBe('VERTEX_NOT_FOUND');
    expect(missing.details).toMatchObject({ id: 'ghost', epoch });
    // The integer 3 exists; the string "3" is another vertex.
    expect((await rejection(service.run('bfs', { source: '3' }, epoch))).code).toBe('VERTEX_NOT_FOUND');
    expect((await rejection(service.run('wcc', {}, epoch + 1000))).code).toBe('EPOCH_NOT_FOUND');
    const s = service.stats().byAlgorithm;
    expect(s.pagerank.invalid).toBeGreaterThanOrEqual(1);
    expect(s.bfs.failed).toBeGreaterThanOrEqual(2);
  });

  it('pins the epoch for each admitted run and releases the pin', async () => {
    const before = pins.length;
    await service.run('lcc', {}, epoch);
    expect(pins.length).toBe(before + 1);
    expect(pins[pins.length - 1]).toMatchObject({ asked: epoch, released: 1 });
    expect(pins[pins.length - 1].ttlMs).toBeGreaterThan(service.timeoutMs);
    expect(pins.every((p) => p.released === 1)).toBe(true);
  });

  it('exports Prometheus metrics', async () => {
    await service.run('cdlp', { iterations: 3 }, epoch);
    const text = await registry.metrics();
    expect(text).toMatch(/epochgraph_analytics_runs_started_total\{algorithm="cdlp"\} 1/);
    expect(text).toMatch(/epochgraph_analytics_runs_finished_total\{algorithm="cdlp",outcome="ok"\} 1/);
    expect(text).toMatch(
      /epochgraph_analytics_runs_refused_total\{algorithm="pagerank",reason="invalid"\} \d/,
    );
    expect(text).toMatch(
      /epochgraph_analytics_run_duration_seconds_count\{algorithm="cdlp",outcome="ok"\} 1/,
    );
    expect(text).toMatch(/epochgraph_analytics_runs_active 0/);
  });
});
