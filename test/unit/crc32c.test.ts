import { describe, expect, it } from 'vitest';
import {
  CRC32C_CHECK_VALUE,
  CRC32C_IMPLEMENTATION,
  crc32c,
  crc32cSoftware,
} from '../../partitions/crc32c.js';

const ascii = (s: string) => new TextEncoder().encode(s);

function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('crc32c', () => {
  it('uses the native binding on this machine', () => {
    // Linux x64 has a prebuilt @node-rs/crc32 binary; the fallback is for other platforms.
    expect(CRC32C_IMPLEMENTATION).toBe('native');
  });

  it.each([
    ['native', crc32c],
    ['software', crc32cSoftware],
  ])('%s matches the standard check value and known vectors', (_name, fn) => {
    expect(fn(ascii('123456789'))).toBe(CRC32C_CHECK_VALUE);
    expect(CRC32C_CHECK_VALUE).toBe(0xe3069283);
    expect(fn(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) appendix B.4 test vectors.
    expect(fn(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(fn(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(fn(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(fn(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('chains: the CRC of a + b equals crc(b, crc(a)), for both implementations', () => {
    const data = pseudoRandom(10_000, 7);
    for (const split of [0, 1, 7, 8, 9, 4096, 9999, 10_000]) {
      const a = data.subarray(0, split);
      const b = data.subarray(split);
      expect(crc32c(b, crc32c(a))).toBe(crc32c(data));
      expect(crc32cSoftware(b, crc32cSoftware(a))).toBe(crc32cSoftware(data));
    }
  });

  it('the software fallback agrees with the native binding on every length and alignment', () => {
    const data = pseudoRandom(5000, 3);
    for (let len = 0; len < 70; len++) {
      for (let off = 0; off < 9; off++) {
        const view = data.subarray(off, off + len);
        expect(crc32cSoftware(view)).toBe(crc32c(view));
      }
    }
    expect(crc32cSoftware(data)).toBe(crc32c(data));
  });

  it('detects a single flipped bit', () => {
    const data = pseudoRandom(1024, 11);
    const base = crc32c(data);
    for (const bit of [0, 1, 7, 4000, 8191]) {
      const copy = data.slice();
      copy[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32c(copy)).not.toBe(base);
    }
  });
});
