/**
 * The checked messages of the worker pools (src/analytics/pool-protocol.ts): what crosses a
 * thread boundary is parsed on arrival. A rows task with bad ids, direction or limits is an
 * INVALID_REQUEST; a reply carries either a well-formed result, a typed error (rebuilt with
 * its code), or it is an INTERNAL error.
 */
import { describe, expect, it } from 'vitest';
import {
  parsePackedReply,
  parseReply,
  parseRowsReply,
  parseTask,
} from '../../src/analytics/pool-protocol.js';
import { failure } from '../helpers/rejection.js';

const rowsTask = {
  kind: 'rows',
  epoch: 3,
  partitions: 2,
  ids: [1, 'ann'],
  direction: 'both',
  limits: { maxBatchNeighbors: 10, yieldEveryEntries: 5 },
};

describe('pool protocol', () => {
  it('parses a rows task and refuses bad ids, directions, labels and limits', () => {
    expect(parseTask(rowsTask)).toEqual({ ...rowsTask, label: undefined });
    const f64 = parseTask({ ...rowsTask, ids: new Float64Array([1, 2]), label: 'knows' });
    expect(f64).toMatchObject({ kind: 'rows', label: 'knows' });
    const answer = new SharedArrayBuffer(8, { maxByteLength: 64 });
    expect(parseTask({ ...rowsTask, answer })).toMatchObject({ kind: 'rows', answer });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ids: [1, -1] }, /ids\[1\]/],
      [{ ids: [1.5] }, /ids\[0\]/],
      [{ ids: 'x' }, /ids/],
      [{ ids: new Uint32Array(2) }, /ids/],
      [{ direction: 'up' }, /direction/],
      [{ label: 7 }, /label/],
      [{ limits: { maxBatchNeighbors: 0, yieldEveryEntries: 5 } }, /limits/],
      [{ limits: null }, /limits/],
      [{ epoch: -1 }, /epoch/],
      [{ partitions: 0 }, /partition/],
      [{ answer: new ArrayBuffer(8) }, /answer/],
      [{ answer: new SharedArrayBuffer(8) }, /answer/],
    ];
    for (const [change, message] of bad) {
      const err = failure(() => parseTask({ ...rowsTask, ...change }));
      expect(err.code).toBe('INVALID_REQUEST');
      expect(err.message).toMatch(message);
    }
  });

  it('parses replies: the payload, the typed error carried, or INTERNAL for any other shape', () => {
    const rows = {
      offsets: new Float64Array([0, 2]),
      neighbors: new Float64Array([4, 5]),
      missing: new Float64Array(0),
    };
    expect(parseRowsReply({ ok: true, rows })).toBe(rows);
    const tooLarge = failure(() =>
      parseRowsReply({ ok: false, error: { code: 'TOO_LARGE', message: 'too many', details: { max: 1 } } }),
    );
    expect(tooLarge.code).toBe('TOO_LARGE');
    expect(tooLarge.details).toEqual({ max: 1 });
    for (const malformed of [
      null,
      'ok',
      { ok: true },
      { ok: true, rows: { ...rows, offsets: new Float64Array([0, 3]) } },
      { ok: true, rows: { ...rows, missing: [] } },
      { ok: true, result: rows },
    ]) {
      expect(failure(() => parseRowsReply(malformed)).code).toBe('INTERNAL');
    }
    const result = { epoch: 2, algorithm: 'wcc', ids: new Float64Array([1]), values: new Float64Array([1]) };
    expect(parseReply({ ok: true, result })).toBe(result);
    expect(failure(() => parseReply({ ok: true, result: { ...result, values: [] } })).code).toBe('INTERNAL');
    expect(
      failure(() => parseReply({ ok: false, error: { code: 'EPOCH_GONE', message: 'gone' } })).code,
    ).toBe('EPOCH_GONE');
  });

  it('parses packed replies: a byte count within the answer buffer, bytes of their own, or INTERNAL', () => {
    const answer = new SharedArrayBuffer(16, { maxByteLength: 64 });
    const view = parsePackedReply({ ok: true, packed: 10 }, answer);
    expect(view.buffer).toBe(answer);
    expect(view.length).toBe(10);
    const own = new Uint8Array([0x80]);
    expect(parsePackedReply({ ok: true, packedBytes: own }, answer)).toBe(own);
    expect(
      failure(() => parsePackedReply({ ok: false, error: { code: 'TOO_LARGE', message: 'x' } }, answer)).code,
    ).toBe('TOO_LARGE');
    for (const malformed of [
      { ok: true, packed: 17 },
      { ok: true, packed: 0 },
      { ok: true, packed: 1.5 },
      { ok: true, packedBytes: new Uint8Array(0) },
      { ok: true, packedBytes: [1] },
      { ok: true, rows: {} },
      null,
    ]) {
      expect(failure(() => parsePackedReply(malformed, answer)).code).toBe('INTERNAL');
    }
  });
});
