/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL frame and
 * checkpoint body.
 *
 * The native SSE4.2/ARMv8 implementation from `@node-rs/crc32` runs at several GB/s, which
 * keeps checksumming out of the seal and recovery budgets. It ships as optional per-platform
 * packages, so a platform without a prebuilt binary would fail to load it: then we fall back
 * to the slice-by-8 table version below (a few hundred MB/s), which computes the same values.
 * The native module is self-tested against the standard check value before it is trusted.
 */
import { createRequire } from 'node:module';

/** crc32c("123456789"), the standard check value of the algorithm. */
export const CRC32C_CHECK_VALUE = 0xe3069283;
const CHECK_INPUT = new TextEncoder().encode('123456789');

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const POLYNOMIAL_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;
const TABLE_SIZE = 256;

type Crc32cFunction = (data: Uint8Array, previous?: number) => number;

/**
 * Eight 256-entry tables: table t maps a byte to its CRC contribution when followed by t zero
 * bytes, so eight input bytes fold into the register with eight lookups and no dependency chain.
 */
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(TABLE_COUNT * TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL_REFLECTED : c >>> 1;
    tables[i] = c >>> 0;
  }
  for (let t = 1; t < TABLE_COUNT; t++) {
    for (let i = 0; i < TABLE_SIZE; i++) {
      const prev = tables[(t - 1) * TABLE_SIZE + i];
      tables[t * TABLE_SIZE + i] = ((prev >>> 8) ^ tables[prev & 0xff]) >>> 0;
    }
  }
  return tables;
}

/**
 * Pure TypeScript slice-by-8 CRC32C. `previous` is the CRC of the data before `data`, so
 * `crc32cSoftware(b, crc32cSoftware(a))` equals the CRC of `a` followed by `b`.
 */
export function crc32cSoftware(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous | 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const lo = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ crc;
    crc =
      t[7 * TABLE_SIZE + (lo & 0xff)] ^
      t[6 * TABLE_SIZE + ((lo >>> 8) & 0xff)] ^
      t[5 * TABLE_SIZE + ((lo >>> 16) & 0xff)] ^
      t[4 * TABLE_SIZE + (lo >>> 24)] ^
      t[3 * TABLE_SIZE + data[i + 4]] ^
      t[2 * TABLE_SIZE + data[i + 5]] ^
      t[TABLE_SIZE + data[i + 6]] ^
      t[data[i + 7]];
    i += 8;
  }
  while (i < n) crc = t[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function loadNative(): Crc32cFunction | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod: unknown = require('@node-rs/crc32');
    if (mod === null || typeof mod !== 'object') return undefined;
    const fn: unknown = (mod as { crc32c?: unknown }).crc32c;
    if (typeof fn !== 'function') return undefined;
    const native = fn as Crc32cFunction;
    // Trust the binding only if it computes the same function as ours, chaining included.
    if (native(CHECK_INPUT) !== CRC32C_CHECK_VALUE) return undefined;
    if (native(CHECK_INPUT.subarray(4), native(CHECK_INPUT.subarray(0, 4))) !== CRC32C_CHECK_VALUE) {
      return undefined;
    }
    return native;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which implementation `crc32c` uses on this machine: the native binding or the TS fallback. */
export const CRC32C_IMPLEMENTATION: 'native' | 'software' = native ? 'native' : 'software';

/**
 * CRC32C of `data`, as an unsigned 32-bit integer. Pass the CRC of preceding data as
 * `previous` to checksum a stream piece by piece.
 */
export const crc32c: (data: Uint8Array, previous?: number) => number = native
  ? (data, previous = 0) => native(data, previous) >>> 0
  : crc32cSoftware;
