/**
 * Small I/O helpers shared by the WAL and checkpoints: full writes and reads (the kernel may
 * transfer fewer bytes than asked), and directory fsync (a created, renamed or deleted file
 * is durable only once its directory entry is).
 */
import { type FileHandle, mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { errnoCode } from './storage-error.js';

/**
 * Opens a file. Production code uses `fs.promises.open`; tests pass a wrapper to count fsyncs
 * on real handles or to inject device errors, without mocking the file system.
 */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>;

export const defaultOpenFile: OpenFile = (path, flags) => open(path, flags);

/** Writes all `length` bytes at `position`, looping over short writes. */
export async function writeFully(
  fh: FileHandle,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, offset + done, length - done, position + done);
    // A zero-byte write would loop forever; the kernel only does that on a broken device.
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} at position ${position + done}`);
    done += bytesWritten;
  }
}

/** Reads up to `length` bytes at `position`, looping over short reads; returns the count (less at EOF). */
export async function readFully(
  fh: FileHandle,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** fsync of a directory, so that file creations, renames and deletions in it survive a crash. */
export async function fsyncDir(dir: string, openFile: OpenFile = defaultOpenFile): Promise<void> {
  const fh = await openFile(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Names in a directory, or an empty list when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Closes a handle, ignoring errors: used on paths that already failed or are being abandoned. */
export async function closeQuietly(fh: FileHandle | undefined): Promise<void> {
  if (!fh) return;
  try {
    await fh.close();
  } catch {
    // The handle is being abandoned after another error; that error is the one to report.
  }
}

/**
 * mkdir -p that survives a crash: each directory it creates is made durable by an fsync of
 * its parent. Returns whether anything was created.
 */
export async function ensureDir(path: string, openFile: OpenFile = defaultOpenFile): Promise<boolean> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return false;
  const target = resolve(path);
  let dir = resolve(first);
  for (;;) {
    await fsyncDir(dirname(dir), openFile);
    if (dir === target) break;
    dir = join(dir, relative(dir, target).split(sep)[0]);
  }
  return true;
}

/** Whether `path` is an existing directory (false when it does not exist). */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
