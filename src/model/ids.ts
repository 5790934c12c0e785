/**
 * External vertex ids and the partition function.
 *
 * An external id is a non-negative safe integer or a string of at most 256 UTF-8 bytes. The
 * integer 5 and the string "5" are different vertices.
 *
 * The partition of an id is `idHash(id) mod P`, where idHash hashes the canonical id bytes:
 * an integer as its 64-bit little-endian value (mixed with murmur3's fmix32 on both halves),
 * a string as murmur3_32 of its UTF-8 bytes. The function is part of the on-disk and etcd
 * contract (P is fixed per cluster), so it must never change.
 *
 * Hash words: the mixing functions below return their 32 bits as an int32, and only idHash
 * (the public hash) reads them as unsigned. On Node 20, V8 keeps an int32 as a small integer
 * wherever it goes, but a uint32 of 2^31 or more, passed to or returned from a call that is
 * not inlined, is boxed in a new heap number: half of all hashes. Passing hashes and key words
 * as int32 took a cache-resident id-index lookup from ~55 to ~35 ns and bulk inserts' apply
 * 5-10% faster. Consumers that need the unsigned value (shifts, hashMod) get the same bits.
 */
import { invalid } from '../errors.js';

export type ExternalId = number | string;
export const MAX_STRING_ID_BYTES = 256;

const SEED_INT = 0x9e3779b9;
const SEED_STR = 0x85ebca6b;
const encoder = new TextEncoder();

/** murmur3's 32-bit finalizer: a bijective avalanche mix (a hash word: int32). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** fmix32(SEED_INT): the mixed high half of every id below 2^32. */
const MIXED_HI_ZERO = fmix32(SEED_INT);

/** Hash word of an integer id given as its low and high 32-bit halves (either sign). */
export function intIdHash(lo: number, hi: number): number {
  return fmix32(lo ^ (hi === 0 ? MIXED_HI_ZERO : fmix32(hi ^ SEED_INT)));
}

/** The high 32 bits of a non-negative safe integer (no division for ids below 2^32). */
export function highHalf(n: number): number {
  return n > 0xffffffff ? Math.floor(n / 4294967296) >>> 0 : 0;
}

/** murmur3_32 over bytes[start, end), as a hash word. */
export function murmur3Bytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  let i = start;
  const tail = end - ((end - start) & 3);
  for (; i < tail; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = (end - start) & 3;
  if (rest > 0) {
    let k = bytes[i];
    if (rest > 1) k ^= bytes[i + 1] << 8;
    if (rest > 2) k ^= bytes[i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= end - start;
  return fmix32(h);
}

export function stringIdHash(bytes: Uint8Array): number {
  return murmur3Bytes(bytes, 0, bytes.length, SEED_STR);
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The canonical hash of an external id (see the module comment), unsigned. */
export function idHash(id: ExternalId): number {
  if (typeof id === 'number') return intIdHash(id | 0, highHalf(id)) >>> 0;
  return stringIdHash(utf8(id)) >>> 0;
}

/** The partition that owns an id, for a cluster of P partitions. */
export function partitionOf(id: ExternalId, partitions: number): number {
  return partitions === 1 ? 0 : hashMod(idHash(id), partitions);
}

/**
 * h % m for the unsigned value of a 32-bit hash h (of either sign) and a positive integer m
 * below 2^30, in int32
 * arithmetic. (h % m itself is a double modulo once h ≥ 2^31, a call into the runtime in V8:
 * ~20 ns, 4× the whole owner computation of a bulk edge column.) With h = 2q + b,
 * h mod m = (2 (q mod m) + b) mod m, and q < 2^31.
 */
export function hashMod(h: number, m: number): number {
  if ((m & (m - 1)) === 0) return h & (m - 1);
  return ((((h >>> 1) % m) << 1) + (h & 1)) % m;
}

export function isExternalId(v: unknown): v is ExternalId {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  if (typeof v === 'string') return v.length > 0 && utf8ByteLength(v) <= MAX_STRING_ID_BYTES;
  return false;
}

/** Explain why a value is not an external id, or return null when it is one. */
export function externalIdProblem(v: unknown): string | null {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return `id ${v} is not an integer`;
    if (v < 0) return `id ${v} is negative`;
    if (!Number.isSafeInteger(v)) return `id ${v} is larger than 2^53-1`;
    return null;
  }
  if (typeof v === 'string') {
    if (v.length === 0) return 'id is an empty string';
    const n = utf8ByteLength(v);
    if (n > MAX_STRING_ID_BYTES) return `string id is ${n} UTF-8 bytes; the limit is ${MAX_STRING_ID_BYTES}`;
    return null;
  }
  return `id must be a non-negative integer or a string, got ${v === null ? 'null' : typeof v}`;
}

/**
 * Throw INVALID_REQUEST naming the first of `ids` that is not an external id, as
 * `where[i]: why`. The loop only tests each id; the message is built for the bad one alone
 * (a loop of externalIdProblem calls spent ~7 ns per id in V8's NumberToString, though no
 * message was ever used: 30 µs per 4096 ids, and 8 µs now; scratch/nts.mjs).
 */
export function checkIdColumn(ids: ArrayLike<unknown>, where: string): void {
  for (let i = 0; i < ids.length; i++) {
    if (!isExternalId(ids[i])) throw invalid(`${where}[${i}]: ${externalIdProblem(ids[i])}`);
  }
}

export function checkExternalId(v: unknown, where = 'id'): ExternalId {
  const problem = externalIdProblem(v);
  if (problem !== null) throw invalid(`${where}: ${problem}`);
  return v as ExternalId;
}

/** UTF-8 byte length without allocating. Lone surrogates count as 3 bytes (U+FFFD). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Parse an id from a URL path segment: all decimal digits (a safe integer) is the integer id,
 * anything else is a string id; `asString` makes a digits-only segment a string.
 */
export function parsePathId(raw: string, asString = false): ExternalId {
  if (!asString && /^[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
    throw invalid(`id ${raw} is larger than 2^53-1; pass idType=string to use it as a string id`);
  }
  return checkExternalId(raw);
}
