/**
 * Loading checkpoints: find the newest one whose header and body CRC verify, falling back past
 * truncated or corrupt ones, and hand its body out as a stream or one buffer.
 */
import { constants as bufferConstants } from 'node:buffer';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import {
  CHECKPOINT_HEADER_BYTES,
  type CheckpointHeader,
  checkpointFileName,
  parseCheckpointFileName,
  readCheckpointHeader,
} from './checkpoint-format.js';
import { crc32c } from './crc32c.js';
import { closeQuietly, listDir, readFully } from './durable-io.js';
import { CorruptionError } from './storage-error.js';

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** A checkpoint file that `loadLatestCheckpoint` passed over, and why. */
export interface SkippedCheckpoint {
  file: string;
  problem: string;
}

/** The newest checkpoint that verified, with its body available as a stream or a buffer. */
export interface LoadedCheckpoint {
  epoch: number;
  file: string;
  bodyBytes: number;
  bodyCrc: number;
  /** Newer checkpoints that failed verification, newest first. */
  skipped: SkippedCheckpoint[];
  /** Streams the body in chunks (fresh buffers the caller may keep); re-checks the CRC at the end. */
  body(chunkBytes?: number): AsyncIterable<Uint8Array>;
  /** Reads the whole body into one buffer; re-checks the CRC. */
  readBody(): Promise<Buffer>;
}

/** Lists committed checkpoint epochs in a directory, newest first, by file name only. */
export async function listCheckpoints(dir: string): Promise<number[]> {
  const epochs: number[] = [];
  for (const name of await listDir(dir)) {
    const epoch = parseCheckpointFileName(name);
    if (epoch !== undefined) epochs.push(epoch);
  }
  return epochs.sort((a, b) => b - a);
}

/** Checks a checkpoint's header and body CRC; returns its header or the problem found. */
export async function verifyCheckpoint(path: string, epoch: number): Promise<CheckpointHeader | string> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    const header = await readCheckpointHeader(fh, size, epoch);
    if (typeof header === 'string') return header;
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(1, header.bodyLength)));
    let crc = 0;
    for (let pos = CHECKPOINT_HEADER_BYTES; pos < size; ) {
      const n = await readFully(fh, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) return 'file shrank while it was verified';
      crc = crc32c(buf.subarray(0, n), crc);
      pos += n;
    }
    if (crc !== header.bodyCrc)
      return `body CRC mismatch (header 0x${header.bodyCrc.toString(16)}, body 0x${crc.toString(16)})`;
    return header;
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await closeQuietly(fh);
  }
}

/**
 * Finds the newest checkpoint in `dir` whose header and body CRC verify, falling back to older
 * ones (each skipped file is reported with its problem). Returns null when there is none at
 * all; throws CorruptionError when there are checkpoints but none verifies.
 */
export async function loadLatestCheckpoint(dir: string): Promise<LoadedCheckpoint | null> {
  const skipped: SkippedCheckpoint[] = [];
  for (const epoch of await listCheckpoints(dir)) {
    const file = join(dir, checkpointFileName(epoch));
    const header = await verifyCheckpoint(file, epoch);
    if (typeof header === 'string') {
      skipped.push({ file, problem: header });
      continue;
    }
    return loaded(file, header, skipped);
  }
  if (skipped.length > 0) {
    throw new CorruptionError(
      dir,
      undefined,
      `no checkpoint verifies: ${skipped.map((s) => `${s.file}: ${s.problem}`).join('; ')}`,
    );
  }
  return null;
}

function loaded(file: string, header: CheckpointHeader, skipped: SkippedCheckpoint[]): LoadedCheckpoint {
  const { epoch, bodyLength, bodyCrc } = header;
  const expectSize = async (fh: FileHandle) => {
    if ((await fh.stat()).size !== CHECKPOINT_HEADER_BYTES + bodyLength) {
      throw new CorruptionError(file, undefined, 'checkpoint changed size after it was verified');
    }
  };
  const checkCrc = (crc: number) => {
    if (crc !== bodyCrc)
      throw new CorruptionError(file, undefined, 'checkpoint body changed after it was verified');
  };
  return {
    epoch,
    file,
    bodyBytes: bodyLength,
    bodyCrc,
    skipped,
    async *body(chunkBytes = READ_CHUNK_BYTES) {
      if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1)
        throw new RangeError('chunkBytes must be >= 1');
      const fh = await open(file, 'r');
      try {
        await expectSize(fh);
        let crc = 0;
        for (let pos = 0; pos < bodyLength; ) {
          const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, bodyLength - pos));
          const n = await readFully(fh, chunk, 0, chunk.length, CHECKPOINT_HEADER_BYTES + pos);
          if (n < chunk.length)
            throw new CorruptionError(file, CHECKPOINT_HEADER_BYTES + pos + n, 'checkpoint ended early');
          crc = crc32c(chunk, crc);
          pos += n;
          // The CRC is only known at the end: a consumer sees the error before finishing the load.
          if (pos === bodyLength) checkCrc(crc);
          yield chunk;
        }
        if (bodyLength === 0) checkCrc(crc);
      } finally {
        await fh.close();
      }
    },
    async readBody() {
      if (bodyLength > bufferConstants.MAX_LENGTH) {
        throw new EpochgraphError(
          'TOO_LARGE',
          `checkpoint body of ${bodyLength} bytes does not fit one buffer; use body()`,
        );
      }
      const fh = await open(file, 'r');
      try {
        await expectSize(fh);
        const buf = Buffer.allocUnsafe(bodyLength);
        if ((await readFully(fh, buf, 0, bodyLength, CHECKPOINT_HEADER_BYTES)) < bodyLength) {
          throw new CorruptionError(file, undefined, 'checkpoint ended early');
        }
        checkCrc(crc32c(buf));
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}
