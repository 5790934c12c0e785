/**
 * Making a backup file a byte-exact, durable copy of a primary file. Used to re-sync the WAL
 * backup after a restart or an outage, when it may lag behind, run ahead of (an unacknowledged
 * group that reached only the backup) or differ from the primary, which is the source of truth.
 */
import type { FileHandle } from 'node:fs/promises';
import { closeQuietly, type OpenFile, readFully, writeFully } from './durable-io.js';
import { errnoCode } from './storage-error.js';

const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * How much of an existing copy may be trusted:
 * - `size`: a copy of the same size is taken as equal (a sealed segment that was made durable
 *   earlier, so it can only be missing or truncated, not silently different);
 * - `content`: compare bytes and rewrite from the first difference (after a restart, when what
 *   is read back is what is on disk);
 * - `rewrite`: copy everything again (after a failed fsync, the page cache may show bytes that
 *   never reached the disk, so equal content proves nothing).
 */
export type MirrorTrust = 'size' | 'content' | 'rewrite';

/** Makes `dst` hold exactly the first `size` bytes of `src`, durably. Returns the bytes copied. */
export async function mirrorFile(
  src: string,
  dst: string,
  size: number,
  trust: MirrorTrust,
  openFile: OpenFile,
): Promise<number> {
  let out: FileHandle | undefined;
  let input: FileHandle | undefined;
  try {
    try {
      out = await openFile(dst, 'r+');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      out = await openFile(dst, 'w');
    }
    const dstSize = (await out.stat()).size;
    if (trust === 'size' && dstSize === size) return 0;
    input = await openFile(src, 'r');
    const from = trust === 'content' ? await firstDifference(input, out, Math.min(size, dstSize)) : 0;
    if (from === size && dstSize === size) {
      // Identical after a restart; sync anyway, cheap when clean, in case it was never synced.
      await out.datasync();
      return 0;
    }
    await out.truncate(from);
    const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(1, size - from)));
    for (let pos = from; pos < size; ) {
      const n = await readFully(input, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) throw new Error(`${src} is shorter than ${size} bytes`);
      await writeFully(out, buf, 0, n, pos);
      pos += n;
    }
    await out.datasync();
    return size - from;
  } finally {
    await closeQuietly(input);
    await closeQuietly(out);
  }
}

/** Offset of the first differing byte among the first `length` bytes, or `length`. */
async function firstDifference(a: FileHandle, b: FileHandle, length: number): Promise<number> {
  const bufA = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  const bufB = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  for (let pos = 0; pos < length; ) {
    const want = Math.min(COPY_CHUNK_BYTES, length - pos);
    const na = await readFully(a, bufA, 0, want, pos);
    const nb = await readFully(b, bufB, 0, want, pos);
    const n = Math.min(na, nb);
    if (bufA.compare(bufB, 0, n, 0, n) !== 0) {
      let i = 0;
      while (bufA[i] === bufB[i]) i++;
      return pos + i;
    }
    if (n < want) return pos + n;
    pos += n;
  }
  return length;
}
