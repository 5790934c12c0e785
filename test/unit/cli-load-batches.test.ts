/**
 * How `load` turns parsed chunks into batches: the columnar form with typed arrays, the
 * reverse edges of --undirected (self-loops once), declared vertices as ops in the same
 * batch, and edges whose property values are missing sent as ops with what they have (a
 * property column must be complete). Also the format each file is parsed with.
 */
import { describe, expect, it } from 'vitest';
import { chunkToBatch } from '../../src/cli/chunk-batch.js';
import { parserFormat } from '../../src/cli/load.js';
import { packMsgpack, unpackMsgpack } from '../../src/codec/msgpack.js';
import type { GraphChunk } from '../../src/formats/index.js';
import { decodeBatch } from '../../src/model/ops.js';

function chunk(partial: Partial<GraphChunk>): GraphChunk {
  return {
    file: 'f',
    firstLine: 1,
    lastLine: 1,
    src: new Float64Array(0),
    dst: new Float64Array(0),
    ...partial,
  };
}

/** The batch as the server decodes it (msgpack both ways, then the server's own decoder). */
function asServerSees(batch: unknown) {
  return decodeBatch(unpackMsgpack(packMsgpack(batch)));
}

describe('chunkToBatch', () => {
  it('sends a plain edge list as typed columns', () => {
    const { batch, edges, vertices } = chunkToBatch(
      chunk({ src: Float64Array.of(1, 2), dst: Float64Array.of(2, 3) }),
      { undirected: false },
    );
    expect(edges).toBe(2);
    expect(vertices).toBe(0);
    expect(batch.ops).toBeUndefined();
    expect(batch.edges?.src).toBeInstanceOf(Float64Array);
    expect(Array.from(batch.edges?.src ?? [])).toEqual([1, 2]);
    expect(Array.from(batch.edges?.dst ?? [])).toEqual([2, 3]);
    const decoded = asServerSees(batch);
    expect(decoded.edges?.src).toBeInstanceOf(Float64Array);
  });

  it('adds the reverse of every edge with --undirected, self-loops once, weights following', () => {
    const { batch, edges } = chunkToBatch(
      chunk({
        src: Float64Array.of(1, 2, 4),
        dst: Float64Array.of(2, 3, 4),
        weights: Float64Array.of(0.5, 0.25, 1),
      }),
      { undirected: true, label: 'road' },
    );
    expect(edges).toBe(3);
    const e = batch.edges;
    expect(e?.label).toBe('road');
    const w = e?.props?.weight as Float64Array;
    const pairs = Array.from(e?.src ?? [], (s, i) => `${s}>${e?.dst[i]}:${w[i]}`);
    expect(pairs).toEqual(['1>2:0.5', '2>3:0.25', '4>4:1', '2>1:0.5', '3>2:0.25']);
    asServerSees(batch);
  });

  it('keeps mixed and string ids as arrays', () => {
    const { batch } = chunkToBatch(chunk({ src: ['a', 1], dst: [2, 'b'] }), { undirected: true });
    expect(batch.edges?.src).toEqual(['a', 1, 2, 'b']);
    expect(batch.edges?.dst).toEqual([2, 'b', 'a', 1]);
  });

  it('sends declared vertices as upsertVertex ops in the same batch, with the vertex label', () => {
    const { batch, vertices } = chunkToBatch(
      chunk({ vertices: Float64Array.of(7, 8), src: Float64Array.of(7), dst: Float64Array.of(9) }),
      { undirected: false, vertexLabel: 'person' },
    );
    expect(vertices).toBe(2);
    expect(batch.ops).toEqual([
      { op: 'upsertVertex', id: 7, label: 'person' },
      { op: 'upsertVertex', id: 8, label: 'person' },
    ]);
    expect(Array.from(batch.edges?.src ?? [])).toEqual([7]);
  });

  it('sends edges without a weight (NaN) as ops, the rest as complete columns', () => {
    const { batch } = chunkToBatch(
      chunk({
        src: Float64Array.of(1, 2, 3),
        dst: Float64Array.of(4, 5, 6),
        weights: Float64Array.of(0.5, Number.NaN, 2),
      }),
      { undirected: true },
    );
    expect(Array.from(batch.edges?.src ?? [])).toEqual([1, 3, 4, 6]);
    expect(Array.from(batch.edges?.dst ?? [])).toEqual([4, 6, 1, 3]);
    expect(Array.from(batch.edges?.props?.weight as Float64Array)).toEqual([0.5, 2, 0.5, 2]);
    expect(batch.ops).toEqual([
      { op: 'upsertEdge', src: 2, dst: 5 },
      { op: 'upsertEdge', src: 5, dst: 2 },
    ]);
    asServerSees(batch);
  });

  it('sends CSV rows with an empty field as ops carrying the fields they have', () => {
    const { batch } = chunkToBatch(
      chunk({
        src: ['a', 'b'],
        dst: ['b', 'c'],
        props: { since: [2020, null], kind: ['friend', 'colleague'] },
      }),
      { undirected: false },
    );
    expect(batch.edges?.src).toEqual(['a']);
    expect(batch.edges?.props?.since).toBeInstanceOf(Float64Array);
    expect(batch.edges?.props?.kind).toEqual(['friend']);
    expect(batch.ops).toEqual([{ op: 'upsertEdge', src: 'b', dst: 'c', props: { kind: 'colleague' } }]);
    asServerSees(batch);
  });
});

describe('parserFormat', () => {
  it('picks the parser by --format, or by extension', () => {
    expect(parserFormat('g.v', undefined)).toBe('vertices');
    expect(parserFormat('g.e', undefined)).toBe('edgelist');
    expect(parserFormat('g.CSV', undefined)).toBe('csv');
    expect(parserFormat('g.txt', undefined)).toBe('edgelist');
    expect(parserFormat('g.v', 'graphalytics')).toBe('vertices');
    expect(parserFormat('g.e', 'graphalytics')).toBe('edgelist');
    expect(parserFormat('dir-input', 'adjacency')).toBe('adjacency');
    expect(parserFormat('g.v', 'edgelist')).toBe('edgelist');
    expect(parserFormat('g.txt', 'csv')).toBe('csv');
  });
});
