/**
 * On-disk format of the write-ahead log, version 1.
 *
 * A partition's WAL is a directory of segment files named `wal-<E>.log`, where E is the epoch
 * of the first SEAL in the segment as 20 decimal digits, so names sort in log order. A segment
 * has no file header: it is a sequence of frames. All integers are little-endian.
 *
 * Frame (12-byte header, then the payload):
 *
 *   offset  size  field
 *   0       2     magic, bytes 0x45 0x57 ("EW")
 *   2       4     CRC32C (Castagnoli) of bytes [6, 12 + payload length): version, type,
 *                 length and payload, so one checksum call covers a whole frame
 *   6       1     format version, 1
 *   7       1     record type: 1 BATCH_MSGPACK, 2 BATCH_BYTES, 3 SEAL
 *   8       4     payload length n (u32), at most MAX_RECORD_BYTES
 *   12      n     payload
 *
 * BATCH_MSGPACK holds one caller value encoded with msgpackr (useRecords: false, so each
 * record decodes on its own; moreTypes: true, so typed arrays keep their type). BATCH_BYTES
 * holds bytes the caller encoded itself; the reader hands them back unchanged.
 *
 * SEAL payload (28 bytes):
 *
 *   offset  size  field
 *   0       8     epoch (u64, a safe integer ≥ 1)
 *   8       8     previous sealed epoch in this WAL (u64; 0 when there was none)
 *   16      8     sealedAtMs (f64, Unix milliseconds)
 *   24      4     number of BATCH frames in the group (u32)
 *
 * A group is the BATCH frames since the previous SEAL, followed by its SEAL; it is committed
 * only when the SEAL frame is intact. The writer writes a whole group with one write and one
 * fdatasync, and never splits a group across segments. Epochs strictly increase and each SEAL
 * names its predecessor, so a lost segment or group is detected rather than skipped.
 */

/** First two bytes of every frame. */
export const FRAME_MAGIC_0 = 0x45;
export const FRAME_MAGIC_1 = 0x57;
export const FORMAT_VERSION = 1;

export const MAGIC_OFFSET = 0;
export const CRC_OFFSET = 2;
export const VERSION_OFFSET = 6;
export const TYPE_OFFSET = 7;
export const LENGTH_OFFSET = 8;
export const FRAME_HEADER_BYTES = 12;
/** The checksum starts after itself, at the version byte, and runs to the end of the payload. */
export const CRC_START = VERSION_OFFSET;

export const SEAL_EPOCH_OFFSET = 0;
export const SEAL_PREV_EPOCH_OFFSET = 8;
export const SEAL_SEALED_AT_OFFSET = 16;
export const SEAL_RECORD_COUNT_OFFSET = 24;
export const SEAL_PAYLOAD_BYTES = 28;
export const SEAL_FRAME_BYTES = FRAME_HEADER_BYTES + SEAL_PAYLOAD_BYTES;

/**
 * Upper bound of one record's payload. It is part of the format, not a setting: a reader must
 * accept everything a writer may produce, and it bounds what a damaged length field can make a
 * reader allocate. 256 MiB is far above a 5 K-edge batch (~100 KB).
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Default size at which the writer starts a new segment (a group is never split). */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export const RECORD_TYPES = { BATCH_MSGPACK: 1, BATCH_BYTES: 2, SEAL: 3 } as const;
export type RecordType = (typeof RECORD_TYPES)[keyof typeof RECORD_TYPES];

export function isRecordType(v: number): v is RecordType {
  return v === RECORD_TYPES.BATCH_MSGPACK || v === RECORD_TYPES.BATCH_BYTES || v === RECORD_TYPES.SEAL;
}

const TWO_POW_32 = 2 ** 32;
/** High word of Number.MAX_SAFE_INTEGER: epochs above it cannot be exact JS numbers. */
const MAX_SAFE_HIGH_WORD = Math.floor(Number.MAX_SAFE_INTEGER / TWO_POW_32);

/** Writes a non-negative safe integer as u64 little-endian. */
export function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_POW_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_POW_32), offset + 4);
}

/** Reads a u64 little-endian, or -1 when it does not fit a safe integer. */
export function readU64(buf: Buffer, offset: number): number {
  const lo = buf.readUInt32LE(offset);
  const hi = buf.readUInt32LE(offset + 4);
  if (hi > MAX_SAFE_HIGH_WORD) return -1;
  const value = hi * TWO_POW_32 + lo;
  return value <= Number.MAX_SAFE_INTEGER ? value : -1;
}

export function isValidEpoch(epoch: number): boolean {
  return Number.isSafeInteger(epoch) && epoch >= 1;
}

/** Decoded SEAL payload. */
export interface SealMarker {
  epoch: number;
  prevEpoch: number;
  sealedAtMs: number;
  recordCount: number;
}

export function writeSealPayload(buf: Buffer, offset: number, seal: SealMarker): void {
  writeU64(buf, offset + SEAL_EPOCH_OFFSET, seal.epoch);
  writeU64(buf, offset + SEAL_PREV_EPOCH_OFFSET, seal.prevEpoch);
  buf.writeDoubleLE(seal.sealedAtMs, offset + SEAL_SEALED_AT_OFFSET);
  buf.writeUInt32LE(seal.recordCount, offset + SEAL_RECORD_COUNT_OFFSET);
}

/** Decodes a SEAL payload whose CRC already verified; returns a problem string if a field is invalid. */
export function readSealPayload(buf: Buffer, offset: number): SealMarker | string {
  const epoch = readU64(buf, offset + SEAL_EPOCH_OFFSET);
  const prevEpoch = readU64(buf, offset + SEAL_PREV_EPOCH_OFFSET);
  const sealedAtMs = buf.readDoubleLE(offset + SEAL_SEALED_AT_OFFSET);
  const recordCount = buf.readUInt32LE(offset + SEAL_RECORD_COUNT_OFFSET);
  if (!isValidEpoch(epoch)) return 'SEAL epoch is not a safe integer >= 1';
  if (prevEpoch < 0) return 'SEAL previous epoch is not a safe integer';
  if (prevEpoch >= epoch) return `SEAL previous epoch ${prevEpoch} is not below its epoch ${epoch}`;
  if (!Number.isFinite(sealedAtMs) || sealedAtMs < 0) return `SEAL sealedAtMs ${sealedAtMs} is not a time`;
  return { epoch, prevEpoch, sealedAtMs, recordCount };
}

/** Writes a frame header except the CRC, which `finishFrame` fills once the payload is in place. */
export function writeFrameHeader(buf: Buffer, offset: number, type: RecordType, payloadLength: number): void {
  buf[offset + MAGIC_OFFSET] = FRAME_MAGIC_0;
  buf[offset + MAGIC_OFFSET + 1] = FRAME_MAGIC_1;
  buf[offset + VERSION_OFFSET] = FORMAT_VERSION;
  buf[offset + TYPE_OFFSET] = type;
  buf.writeUInt32LE(payloadLength, offset + LENGTH_OFFSET);
}

const SEGMENT_NAME = /^wal-(\d{20})\.log$/;
const EPOCH_DIGITS = 20;

export function segmentFileName(firstEpoch: number): string {
  return `wal-${String(firstEpoch).padStart(EPOCH_DIGITS, '0')}.log`;
}

/** First epoch encoded in a segment file name, or undefined for any other name. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const epoch = Number(m[1]);
  return isValidEpoch(epoch) ? epoch : undefined;
}

/**
 * msgpackr settings of BATCH_MSGPACK records. `useRecords: false` keeps every record
 * self-contained (msgpackr's record extension would make a record depend on structures defined
 * by earlier ones). `moreTypes: true` is required for typed arrays: without it msgpackr 2.1
 * writes a Float64Array as a bin of its byte length filled with its elements truncated to
 * bytes, silently corrupting columnar batches.
 */
export const MSGPACK_OPTIONS = { useRecords: false, moreTypes: true } as const;
