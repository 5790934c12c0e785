/**
 * Routing bulk edges: every edge reaches the owners of both endpoints (once when they
 * coincide), in batch order, with its properties, whatever the column kind.
 */
import { describe, expect, it } from 'vitest';
import { routeBatch } from '../../partitions/batch-router.js';
import { type ExternalId, partitionOf } from '../../src/model/ids.js';
import type { EdgeColumns } from '../../src/model/ops.js';

/** The reference: edge by edge through partitionOf. */
function expected(e: EdgeColumns, P: number): Map<number, [ExternalId, ExternalId, unknown][]> {
  const out = new Map<number, [ExternalId, ExternalId, unknown][]>();
  for (let i = 0; i < e.src.length; i++) {
    const row: [ExternalId, ExternalId, unknown] = [e.src[i], e.dst[i], e.props?.w[i]];
    const ps = partitionOf(e.src[i], P);
    const pd = partitionOf(e.dst[i], P);
    for (const p of ps === pd ? [ps] : [ps, pd]) {
      if (!out.has(p)) out.set(p, []);
      out.get(p)?.push(row);
    }
  }
  return out;
}

function rows(e: EdgeColumns): [ExternalId, ExternalId, unknown][] {
  return Array.from({ length: e.src.length }, (_, i) => [e.src[i], e.dst[i], e.props?.w[i]]);
}

describe('routeBatch bulk edges', () => {
  const n = 2000;
  const big = (i: number) => 2 ** 45 + i * 7_777_777;
  const columns: [string, EdgeColumns][] = [
    [
      'Float64Array ids, some above 2^32',
      {
        src: Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i : big(i))),
        dst: Float64Array.from({ length: n }, (_, i) => (i * 31) % 977),
        props: { w: Float64Array.from({ length: n }, (_, i) => i / 2) },
      },
    ],
    [
      'string and number ids in plain arrays',
      {
        src: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `s${i}` : i)),
        dst: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? big(i) : `d${i % 50}`)),
        props: { w: Array.from({ length: n }, (_, i) => `w${i}`) },
      },
    ],
  ];
  for (const [name, e] of columns) {
    for (const P of [2, 3, 8]) {
      it(`${name}, P = ${P}`, () => {
        const route = routeBatch({ ops: [], edges: e }, P);
        expect(route.length).toBe(1);
        const got = new Map([...route[0]].map(([p, sub]) => [p, sub.edges ? rows(sub.edges) : []]));
        expect(got).toEqual(expected(e, P));
      });
    }
  }
});
