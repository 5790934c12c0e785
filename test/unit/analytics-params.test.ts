/**
 * Algorithm parameters (zod, DESIGN.md §7) and the `top` selection: defaults, refusals with
 * issues, the id rules for sources, and ties broken by external id across the cut at k.
 */
import { describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  type Projection,
  parseAlgorithmCall,
  selectTop,
  TOP_ORDER,
} from '../../src/analytics/index.js';
import { checkDescriptorSet, parseTask } from '../../src/analytics/pool-protocol.js';
import type { ExternalId } from '../../src/model/ids.js';
import { PartitionStore } from '../../src/storage/index.js';
import { failure } from '../helpers/rejection.js';

describe('algorithm parameters', () => {
  it('fills in the defaults of DESIGN.md §7', () => {
    expect(parseAlgorithmCall('pagerank', undefined)).toEqual({
      algorithm: 'pagerank',
      params: { iterations: 20, damping: 0.85, undirected: false },
    });
    expect(parseAlgorithmCall('cdlp', {}).params).toEqual({ iterations: 10, undirected: false });
    expect(parseAlgorithmCall('bfs', { source: 7 }).params).toEqual({
      source: 7,
      direction: 'out',
      undirected: false,
    });
    expect(parseAlgorithmCall('sssp', { source: 'a', top: 3 }).params).toEqual({
      source: 'a',
      weight: 'weight',
      undirected: false,
      top: 3,
    });
    expect(parseAlgorithmCall('wcc', null).params).toEqual({ undirected: false });
    expect(parseAlgorithmCall('lcc', { undirected: true }).params).toEqual({ undirected: true });
  });

  it('refuses unknown algorithms with NOT_FOUND and bad parameters with INVALID_REQUEST and issues', () => {
    const unknown = failure(() => parseAlgorithmCall('betweenness', {}));
    expect(unknown.code).toBe('NOT_FOUND');
    expect(unknown.details).toMatchObject({ algorithms: [...ALGORITHMS] });
    const cases: [string, unknown, string][] = [
      ['bfs', {}, 'source'],
      ['bfs', { source: 1.5 }, 'source'],
      ['bfs', { source: -1 }, 'source'],
      ['bfs', { source: '' }, 'source'],
      ['bfs', { source: 2 ** 53 }, 'source'],
      ['bfs', { source: 1, direction: 'sideways' }, 'direction'],
      ['pagerank', { iterations: 2.5 }, 'iterations'],
      ['pagerank', { iterations: 10_001 }, 'iterations'],
      ['pagerank', { damping: 1.5 }, 'damping'],
      ['pagerank', { damping: '0.85' }, 'damping'],
      ['cdlp', { iterations: -1 }, 'iterations'],
      ['sssp', { source: 1, weight: '' }, 'weight'],
      ['wcc', { top: 0 }, 'top'],
      ['lcc', { undirected: 'yes' }, 'undirected'],
      ['lcc', { iterations: 3 }, ''],
    ];
    for (const [name, raw, path] of cases) {
      const err = failure(() => parseAlgorithmCall(name, raw));
      expect(err.code, JSON.stringify(raw)).toBe('INVALID_REQUEST');
      const issues = (err.details as { issues: { path: (string | number)[] }[] }).issues;
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0].path.join('.'), JSON.stringify(raw)).toBe(path);
    }
    expect(failure(() => parseAlgorithmCall('wcc', [1])).code).toBe('INVALID_REQUEST');
  });

  it('checks tasks and descriptor sets that cross threads', () => {
    const call = parseAlgorithmCall('bfs', { source: 1 });
    expect(parseTask({ epoch: 3, partitions: 2, call })).toEqual({ epoch: 3, partitions: 2, call });
    expect(failure(() => parseTask({ epoch: -1, partitions: 2, call })).code).toBe('INVALID_REQUEST');
    expect(
      failure(() => parseTask({ epoch: 1, partitions: 2, call: { algorithm: 'bfs', params: {} } })).code,
    ).toBe('INVALID_REQUEST');
    const limits = {
      chunkWords: 1 << 16,
      maxChunks: 4,
      indexSegments: 2,
      poolSlots: 16,
      slotMaxBytes: 1 << 20,
    };
    const a = PartitionStore.create({ partition: 0, partitions: 2, limits }).descriptor;
    const b = PartitionStore.create({ partition: 1, partitions: 2, limits }).descriptor;
    expect(checkDescriptorSet([b, a]).map((d) => d.partition)).toEqual([0, 1]);
    expect(failure(() => checkDescriptorSet([a, a])).code).toBe('INVALID_REQUEST');
    expect(failure(() => checkDescriptorSet([a])).code).toBe('INVALID_REQUEST');
    expect(failure(() => checkDescriptorSet([])).code).toBe('INVALID_REQUEST');
  });
});

function projection(ids: ExternalId[]): Projection {
  const numeric = ids.every((x) => typeof x === 'number');
  return {
    epoch: 1,
    n: ids.length,
    ids,
    numericIds: numeric ? Float64Array.from(ids as number[]) : null,
    parts: [],
  };
}

describe('top-k selection', () => {
  it('orders by value, then by external id, also across the cut at k', () => {
    // Indices 0..5; ids deliberately not in index order.
    const proj = projection([50, 40, 30, 20, 10, 60]);
    const values = Float64Array.from([1, 2, 2, 2, 0.5, 2]);
    // Four vertices tie at 2 (ids 40, 30, 20, 60); k = 2 keeps the two smallest ids.
    expect(Array.from(selectTop(values, 2, 'desc', proj), (v) => proj.ids[v])).toEqual([20, 30]);
    expect(Array.from(selectTop(values, 5, 'desc', proj), (v) => proj.ids[v])).toEqual([20, 30, 40, 60, 50]);
    expect(Array.from(selectTop(values, 2, 'asc', proj), (v) => proj.ids[v])).toEqual([10, 50]);
    expect(Array.from(selectTop(values, 100, 'asc', proj)).length).toBe(6);
  });

  it('never selects NaN (unreachable) and orders integers before strings', () => {
    const proj = projection(['b', 7, 'a', 3, 9]);
    const values = Float64Array.from([1, 1, 1, Number.NaN, 1]);
    expect(Array.from(selectTop(values, 3, 'asc', proj), (v) => proj.ids[v])).toEqual([7, 9, 'a']);
    expect(Array.from(selectTop(values, 10, 'asc', proj), (v) => proj.ids[v])).toEqual([7, 9, 'a', 'b']);
  });

  it('has an order for every algorithm', () => {
    for (const a of ALGORITHMS) expect(['asc', 'desc']).toContain(TOP_ORDER[a]);
    expect(TOP_ORDER.pagerank).toBe('desc');
    expect(TOP_ORDER.sssp).toBe('asc');
  });
});
