/**
 * Opening a partition's WAL after a start or a crash: validate every segment, cut a torn tail,
 * drop segments left empty, then bring the backup in line with the primary.
 */
import { rm } from 'node:fs/promises';
import { EpochgraphError } from '../src/errors.js';
import { defaultOpenFile, ensureDir, fsyncDir, isDirectory, listDir } from './durable-io.js';
import { backupUnavailable, describe } from './storage-error.js';
import { DEFAULT_SEGMENT_BYTES, parseSegmentFileName } from './wal-format.js';
import { scanWal } from './wal-scan.js';
import { type Segment, type WalOptions, type WalRecovery, WalWriter } from './wal-writer.js';

const MIN_SEGMENT_BYTES = 4096;

/**
 * Opens (creating if needed) a partition's WAL for writing: validates every segment, cuts a
 * torn tail, removes segments left empty, and re-syncs the backup. Throws CorruptionError when
 * the log is damaged anywhere but at its tail.
 */
export async function openWal(options: WalOptions): Promise<WalWriter> {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < MIN_SEGMENT_BYTES) {
    throw new RangeError(`segmentBytes must be an integer >= ${MIN_SEGMENT_BYTES}, got ${segmentBytes}`);
  }
  const afterEpoch = options.afterEpoch ?? 0;
  if (!Number.isSafeInteger(afterEpoch) || afterEpoch < 0) {
    throw new RangeError(`afterEpoch must be a non-negative safe integer, got ${afterEpoch}`);
  }
  const openFile = options.openFile ?? defaultOpenFile;
  const { dir, backupDir } = options;
  if (backupDir !== undefined && !(await isDirectory(dir))) {
    // Re-syncing would make the backup a copy of an empty primary, i.e. wipe it: refuse instead.
    const backupSegments = (await listDir(backupDir).catch(() => [])).filter(
      (n) => parseSegmentFileName(n) !== undefined,
    );
    if (backupSegments.length > 0) {
      throw new EpochgraphError(
        'INTERNAL',
        `WAL directory ${dir} does not exist but the backup ${backupDir} holds ${backupSegments.length} segments; restore the data directory from the backup, or remove the backup to start empty`,
        { reason: 'PRIMARY_MISSING', dir, backupDir },
      );
    }
  }
  await ensureDir(dir, openFile);
  const scan = await scanWal(dir);
  const tail = scan.tail;
  let changed = false;
  if (tail) {
    const fh = await openFile(tail.file, 'r+');
    try {
      await fh.truncate(tail.offset);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    changed = true;
  }
  const segments: Segment[] = [];
  const removedSegments: string[] = [];
  for (const info of scan.segments) {
    const size = tail && info.path === tail.file ? tail.offset : info.size;
    if (size === 0 || info.firstEpoch === undefined) {
      await rm(info.path, { force: true });
      removedSegments.push(info.name);
      changed = true;
      continue;
    }
    segments.push({ name: info.name, firstEpoch: info.firstEpoch, lastEpoch: info.lastEpoch, size });
  }
  if (changed) await fsyncDir(dir, openFile);
  const recovery: WalRecovery = { tail, removedSegments, backupError: undefined };
  const writer = new WalWriter(
    { dir, backupDir, segmentBytes, openFile },
    { segments, lastEpoch: Math.max(scan.lastEpoch ?? 0, afterEpoch), recovery },
  );
  await writer.reopenActive();
  if (backupDir !== undefined) {
    try {
      await writer.resyncBackup('compare-active');
    } catch (err) {
      recovery.backupError = err instanceof EpochgraphError ? err : backupUnavailable(describe(err), err);
    }
  }
  return writer;
}
