/**
 * Encodes one group (the records of an epoch and its SEAL) into a single contiguous buffer, so
 * that sealing costs one write and one fdatasync whatever the number of records. The buffer is
 * reused from seal to seal; it grows by doubling and only shrinks when it is dropped.
 */
import { Packr } from 'msgpackr';
import { EpochgraphError } from '../src/errors.js';
import { crc32c } from './crc32c.js';
import {
  CRC_OFFSET,
  CRC_START,
  FRAME_HEADER_BYTES,
  MAX_RECORD_BYTES,
  MSGPACK_OPTIONS,
  RECORD_TYPES,
  type RecordType,
  SEAL_FRAME_BYTES,
  SEAL_PAYLOAD_BYTES,
  writeFrameHeader,
  writeSealPayload,
} from './wal-format.js';

const INITIAL_BYTES = 256 * 1024;

/** One packer for all writers of a thread: pack() is synchronous and keeps no state between calls. */
const packr = new Packr(MSGPACK_OPTIONS);

export class GroupEncoder {
  private buf: Buffer;
  private used = 0;
  private count = 0;

  constructor(initialBytes = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes encoded so far (a view, valid until the next append or reset). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
  get length(): number {
    return this.used;
  }
  /** BATCH frames in the group so far. */
  get records(): number {
    return this.count;
  }
  get capacity(): number {
    return this.buf.length;
  }

  /** Appends a BATCH_MSGPACK frame holding `value`. */
  appendValue(value: unknown): void {
    // pack() returns a view into msgpackr's own reusable buffer; it is copied below before
    // the next pack call can overwrite it.
    const payload = packr.pack(value);
    this.appendFrame(RECORD_TYPES.BATCH_MSGPACK, payload);
  }

  /** Appends a BATCH_BYTES frame holding a copy of `bytes`. */
  appendBytes(bytes: Uint8Array): void {
    this.appendFrame(RECORD_TYPES.BATCH_BYTES, bytes);
  }

  /** Appends the SEAL frame that closes the group. */
  appendSeal(epoch: number, prevEpoch: number, sealedAtMs: number): void {
    this.reserve(SEAL_FRAME_BYTES);
    const start = this.used;
    writeFrameHeader(this.buf, start, RECORD_TYPES.SEAL, SEAL_PAYLOAD_BYTES);
    writeSealPayload(this.buf, start + FRAME_HEADER_BYTES, {
      epoch,
      prevEpoch,
      sealedAtMs,
      recordCount: this.count,
    });
    this.finishFrame(start, SEAL_PAYLOAD_BYTES);
  }

  reset(): void {
    this.used = 0;
    this.count = 0;
  }

  private appendFrame(type: RecordType, payload: Uint8Array): void {
    if (payload.length > MAX_RECORD_BYTES) {
      throw new EpochgraphError(
        'TOO_LARGE',
        `a WAL record of ${payload.length} bytes exceeds the limit of ${MAX_RECORD_BYTES} bytes`,
        { bytes: payload.length, limit: MAX_RECORD_BYTES },
      );
    }
    this.reserve(FRAME_HEADER_BYTES + payload.length);
    const start = this.used;
    writeFrameHeader(this.buf, start, type, payload.length);
    this.buf.set(payload, start + FRAME_HEADER_BYTES);
    this.finishFrame(start, payload.length);
    this.count++;
  }

  private finishFrame(start: number, payloadLength: number): void {
    const end = start + FRAME_HEADER_BYTES + payloadLength;
    this.buf.writeUInt32LE(crc32c(this.buf.subarray(start + CRC_START, end)), start + CRC_OFFSET);
    this.used = end;
  }

  private reserve(extra: number): void {
    const need = this.used + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}
