/**
 * On-disk format of a checkpoint, version 1: `checkpoint-<epoch, 20 decimal digits>.ckpt`,
 * a 40-byte header followed by an opaque body. Integers are little-endian.
 *
 *   offset  size  field
 *   0       8     magic 0x89 "EGCKPT" 0x0A (the high byte and newline catch text-mode copies)
 *   8       2     format version (u16), 1
 *   10      2     header length (u16), 40
 *   12      4     CRC32C of the body
 *   16      8     epoch (u64, a safe integer ≥ 1; must match the file name)
 *   24      8     body length (u64; must equal file size - 40)
 *   32      4     reserved, 0
 *   36      4     CRC32C of header bytes [0, 36)
 *   40      n     body
 *
 * A file is written as `<name>.tmp`, fsynced, renamed into place and its directory fsynced, so
 * a name without `.tmp` is only ever a complete checkpoint, barring later damage, which the
 * two checksums catch.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32c } from './crc32c.js';
import { readFully } from './durable-io.js';
import { isValidEpoch, readU64, writeU64 } from './wal-format.js';

export const CHECKPOINT_MAGIC = Buffer.from([0x89, 0x45, 0x47, 0x43, 0x4b, 0x50, 0x54, 0x0a]);
export const CHECKPOINT_VERSION = 1;

export const MAGIC_OFFSET = 0;
export const VERSION_OFFSET = 8;
export const HEADER_LENGTH_OFFSET = 10;
export const BODY_CRC_OFFSET = 12;
export const EPOCH_OFFSET = 16;
export const BODY_LENGTH_OFFSET = 24;
export const RESERVED_OFFSET = 32;
export const HEADER_CRC_OFFSET = 36;
export const CHECKPOINT_HEADER_BYTES = 40;

const NAME = /^checkpoint-(\d{20})\.ckpt$/;
const TEMP_SUFFIX = '.tmp';
const EPOCH_DIGITS = 20;

export function checkpointFileName(epoch: number): string {
  return `checkpoint-${String(epoch).padStart(EPOCH_DIGITS, '0')}.ckpt`;
}

export function checkpointTempName(epoch: number): string {
  return `${checkpointFileName(epoch)}${TEMP_SUFFIX}`;
}

/** Epoch of a committed checkpoint file name, or undefined for any other name. */
export function parseCheckpointFileName(name: string): number | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const epoch = Number(m[1]);
  return isValidEpoch(epoch) ? epoch : undefined;
}

/** Whether a name is a checkpoint temp file, left over if a writer crashed before its rename. */
export function isCheckpointTempName(name: string): boolean {
  return (
    name.endsWith(TEMP_SUFFIX) && parseCheckpointFileName(name.slice(0, -TEMP_SUFFIX.length)) !== undefined
  );
}

/** Decoded header of a checkpoint. */
export interface CheckpointHeader {
  epoch: number;
  bodyLength: number;
  bodyCrc: number;
}

export function encodeCheckpointHeader(header: CheckpointHeader): Buffer {
  const buf = Buffer.alloc(CHECKPOINT_HEADER_BYTES);
  CHECKPOINT_MAGIC.copy(buf, MAGIC_OFFSET);
  buf.writeUInt16LE(CHECKPOINT_VERSION, VERSION_OFFSET);
  buf.writeUInt16LE(CHECKPOINT_HEADER_BYTES, HEADER_LENGTH_OFFSET);
  buf.writeUInt32LE(header.bodyCrc, BODY_CRC_OFFSET);
  writeU64(buf, EPOCH_OFFSET, header.epoch);
  writeU64(buf, BODY_LENGTH_OFFSET, header.bodyLength);
  buf.writeUInt32LE(crc32c(buf.subarray(0, HEADER_CRC_OFFSET)), HEADER_CRC_OFFSET);
  return buf;
}

/** Reads and validates the header of a checkpoint file; returns the header or a problem. */
export async function readCheckpointHeader(
  fh: FileHandle,
  fileSize: number,
  nameEpoch: number,
): Promise<CheckpointHeader | string> {
  if (fileSize < CHECKPOINT_HEADER_BYTES) return `file of ${fileSize} bytes is shorter than the header`;
  const buf = Buffer.alloc(CHECKPOINT_HEADER_BYTES);
  if ((await readFully(fh, buf, 0, CHECKPOINT_HEADER_BYTES, 0)) < CHECKPOINT_HEADER_BYTES) {
    return 'header could not be read in full';
  }
  if (!buf.subarray(MAGIC_OFFSET, MAGIC_OFFSET + CHECKPOINT_MAGIC.length).equals(CHECKPOINT_MAGIC)) {
    return 'bad magic';
  }
  if (buf.readUInt32LE(HEADER_CRC_OFFSET) !== crc32c(buf.subarray(0, HEADER_CRC_OFFSET))) {
    return 'header CRC mismatch';
  }
  const version = buf.readUInt16LE(VERSION_OFFSET);
  if (version !== CHECKPOINT_VERSION) return `unsupported format version ${version}`;
  const headerLength = buf.readUInt16LE(HEADER_LENGTH_OFFSET);
  if (headerLength !== CHECKPOINT_HEADER_BYTES) return `unexpected header length ${headerLength}`;
  if (buf.readUInt32LE(RESERVED_OFFSET) !== 0) return 'reserved header field is not zero';
  const epoch = readU64(buf, EPOCH_OFFSET);
  if (epoch !== nameEpoch) return `header epoch ${epoch} does not match the file name's ${nameEpoch}`;
  const bodyLength = readU64(buf, BODY_LENGTH_OFFSET);
  if (bodyLength !== fileSize - CHECKPOINT_HEADER_BYTES) {
    return `header says ${bodyLength} body bytes but the file holds ${fileSize - CHECKPOINT_HEADER_BYTES} (truncated?)`;
  }
  return { epoch, bodyLength, bodyCrc: buf.readUInt32LE(BODY_CRC_OFFSET) };
}
