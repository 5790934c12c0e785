/**
 * A checkpoint body is a sequence of frames [u32 little-endian length][msgpack record]; the
 * records are those of src/storage/checkpoint-codec.ts. The file layer (checkpoint.ts) adds
 * the header and CRC; this layer only splits the body back into records, refusing lengths
 * that do not fit what is left.
 */
import { packMsgpackInto, unpackMsgpack } from '../src/codec/msgpack.js';
import { EpochgraphError } from '../src/errors.js';

/** The longest record a checkpoint holds: a longer length word is read back as corruption. */
export const MAX_FRAME = 1 << 30;

/**
 * Where frameRecord packs: one buffer per thread, grown to the largest record framed so far (up
 * to MAX_KEPT_FRAME).
 */
let frameBuf = Buffer.allocUnsafeSlow(1 << 20);
let frameBody = frameBuf.subarray(4);
/** Records past this size get a frame of their own (the reused buffer does not grow past it). */
const MAX_KEPT_FRAME = 8 << 20;

/**
 * Frame one record: [u32 length][msgpack]. The bytes are a view of a buffer that the next call
 * reuses, so write them (and await the write) before framing the next record. A checkpoint's
 * ~100 MB of records used to take two fresh buffers each (msgpackr's and the frame's): fresh
 * memory to fault in and zero while the partition's writer ingests.
 */
export function frameRecord(record: unknown, maxFrame = MAX_FRAME): Uint8Array {
  const body = packMsgpackInto(record, frameBody);
  // A record that restore would refuse must not be written: the checkpoint fails instead, and
  // the WAL it would have let go is kept. (One list, or its edge properties, past 1 GiB.)
  if (body.length > maxFrame)
    throw new EpochgraphError(
      'CAPACITY_EXCEEDED',
      `a checkpoint record of ${body.length} bytes is longer than a frame may be (${maxFrame} bytes): one vertex's neighbour list or its edge properties, in one direction and label, is too long to checkpoint; the checkpoint is not written and the write-ahead log is kept`,
      { recordBytes: body.length, maxFrameBytes: maxFrame },
    );
  if (body.buffer === frameBuf.buffer) {
    frameBuf.writeUInt32LE(body.length, 0);
    return frameBuf.subarray(0, 4 + body.length);
  }
  // It did not fit; msgpackr packed it into a buffer of its own. Grow the reused buffer for
  // it, unless it is an outlier (one huge list): that one gets a frame of its own.
  const need = body.length + 4;
  let out: Buffer;
  if (need > MAX_KEPT_FRAME) out = Buffer.allocUnsafe(need);
  else {
    let size = frameBuf.length;
    while (size < need) size *= 2;
    frameBuf = Buffer.allocUnsafeSlow(size);
    frameBody = frameBuf.subarray(4);
    out = frameBuf;
  }
  out.writeUInt32LE(body.length, 0);
  out.set(body, 4);
  return out.subarray(0, need);
}

/**
 * Split a stream of body chunks into decoded records. A frame longer than what is at hand
 * (one huge list is one record) collects its chunks and joins them once it is complete: joining
 * at every chunk copied the frame's start again each time, quadratic in its length.
 */
export async function* readFramedRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  let buf: Uint8Array = new Uint8Array(0);
  let at = 0;
  /** Chunks held back while a frame is incomplete, and how many more bytes it needs. */
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let short = 0;
  for await (const chunk of chunks) {
    if (short > 0) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < short) continue;
      buf = Buffer.concat([buf.subarray(at), ...held]);
      at = 0;
      held.length = 0;
      heldBytes = 0;
      short = 0;
    } else if (at >= buf.length) {
      buf = chunk;
      at = 0;
    } else {
      // Less than a frame's length word is left: join it to the chunk.
      const joined = new Uint8Array(buf.length - at + chunk.length);
      joined.set(buf.subarray(at), 0);
      joined.set(chunk, buf.length - at);
      buf = joined;
      at = 0;
    }
    for (;;) {
      if (buf.length - at < 4) break;
      const len = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0, true);
      if (len > MAX_FRAME)
        throw new EpochgraphError('INTERNAL', `corrupt checkpoint: frame of ${len} bytes`, {
          reason: 'DATA_CORRUPT',
        });
      if (buf.length - at - 4 < len) {
        short = 4 + len - (buf.length - at);
        break;
      }
      const body = buf.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      try {
        yield unpackMsgpack(body);
      } catch (err) {
        throw new EpochgraphError(
          'INTERNAL',
          `corrupt checkpoint: undecodable record (${(err as Error).message})`,
          {
            reason: 'DATA_CORRUPT',
          },
        );
      }
    }
  }
  if (at !== buf.length || heldBytes > 0)
    throw new EpochgraphError('INTERNAL', 'corrupt checkpoint: trailing partial frame', {
      reason: 'DATA_CORRUPT',
    });
}
