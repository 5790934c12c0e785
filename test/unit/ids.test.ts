import { describe, expect, it } from 'vitest';
import { EpochgraphError, errorFromData, toErrorData } from '../../src/errors.js';
import {
  checkExternalId,
  checkIdColumn,
  externalIdProblem,
  hashMod,
  idHash,
  parsePathId,
  partitionOf,
  utf8,
  utf8ByteLength,
} from '../../src/model/ids.js';

describe('external ids', () => {
  it('accepts non-negative safe integers and short strings', () => {
    expect(checkExternalId(0)).toBe(0);
    expect(checkExternalId(2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(checkExternalId('alice')).toBe('alice');
    expect(checkExternalId('é'.repeat(128))).toBe('é'.repeat(128));
  });

  it('names the problem with bad ids', () => {
    expect(externalIdProblem(-1)).toMatch(/negative/);
    expect(externalIdProblem(1.5)).toMatch(/not an integer/);
    expect(externalIdProblem(2 ** 53)).toMatch(/2\^53/);
    expect(externalIdProblem('')).toMatch(/empty/);
    expect(externalIdProblem('é'.repeat(129))).toMatch(/258 UTF-8 bytes/);
    expect(externalIdProblem(null)).toMatch(/null/);
    expect(externalIdProblem({})).toMatch(/object/);
  });

  it('counts UTF-8 bytes like TextEncoder', () => {
    for (const s of ['a', 'é', '€', '😀', 'a\ud800b', 'mixed 😀 é €']) {
      expect(utf8ByteLength(s)).toBe(utf8(s).length);
    }
  });

  it('hashes integers and their string forms differently and stably', () => {
    expect(idHash(5)).not.toBe(idHash('5'));
    expect(idHash(123456789012345)).toBe(idHash(123456789012345));
    // Stability: these values are part of the on-disk contract.
    expect(idHash(0)).toBe(idHash(0));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[partitionOf(i, 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(9_000);
  });

  it('parses path ids: digits are integers unless asked for strings', () => {
    expect(parsePathId('42')).toBe(42);
    expect(parsePathId('42', true)).toBe('42');
    expect(parsePathId('bob')).toBe('bob');
    expect(() => parsePathId('99999999999999999999')).toThrow(/idType=string/);
  });
});

describe('errors', () => {
  it('round-trips through plain data', () => {
    const e = new EpochgraphError('EPOCH_GONE', 'gone', { epoch: 3 });
    const back = errorFromData(JSON.parse(JSON.stringify(toErrorData(e))));
    expect(back.code).toBe('EPOCH_GONE');
    expect(back.status).toBe(410);
    expect(back.details).toEqual({ epoch: 3 });
    expect(errorFromData({ code: 'NOPE' }).code).toBe('INTERNAL');
    expect(toErrorData(new TypeError('x')).code).toBe('INTERNAL');
  });
});

describe('hashMod', () => {
  it('is h % m for every 32-bit unsigned h and m from 1 to 64 (it decides where data lives)', () => {
    const edges = [0, 1, 2, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let m = 1; m <= 64; m++) {
      for (const h of edges) expect(hashMod(h, m), `${h} mod ${m}`).toBe(h % m);
      for (let k = 0; k < 2000; k++) {
        const h = next() ^ (next() << 16);
        const u = h >>> 0;
        if (hashMod(u, m) !== u % m) expect(hashMod(u, m), `${u} mod ${m}`).toBe(u % m);
      }
    }
    // Integer ids keep the partitions they had before hashMod (a change would strand stored data).
    for (let id = 0; id < 5000; id++)
      for (const P of [2, 3, 4, 7]) expect(partitionOf(id, P)).toBe(idHash(id) % P);
  });

  it('checks an id column, naming the first bad id and why', () => {
    expect(() => checkIdColumn(new Float64Array([0, 1, 2 ** 53 - 1]), 'ids')).not.toThrow();
    expect(() => checkIdColumn([0, 'ann', 'x'.repeat(256)], 'ids')).not.toThrow();
    const cases: [unknown[], RegExp][] = [
      [[1, -2, -3], /^ids\[1\]: id -2 is negative$/],
      [[1, 2, 0.5], /^ids\[2\]: id 0.5 is not an integer$/],
      [[2 ** 53], /^ids\[0\]: id 9007199254740992 is larger than 2\^53-1$/],
      [['a', ''], /^ids\[1\]: id is an empty string$/],
      [['y'.repeat(257)], /^ids\[0\]: string id is 257 UTF-8 bytes/],
      [[3, null], /^ids\[1\]: id must be a non-negative integer or a string, got null$/],
      [[Number.NaN], /^ids\[0\]: id NaN is not an integer$/],
    ];
    for (const [ids, message] of cases) {
      let err: unknown;
      try {
        checkIdColumn(ids, 'ids');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EpochgraphError);
      expect((err as EpochgraphError).code).toBe('INVALID_REQUEST');
      expect((err as EpochgraphError).message).toMatch(message);
    }
  });
});
