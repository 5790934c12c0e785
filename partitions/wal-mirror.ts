/**
 * Re-syncing a WAL backup directory from the primary, which is the source of truth: after a
 * restart (the backup may lag, run ahead with an unacknowledged group, or hold stray files)
 * and after a backup failure at run time.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, fsyncDir, listDir, type OpenFile } from './durable-io.js';
import { type MirrorTrust, mirrorFile } from './file-mirror.js';
import { parseSegmentFileName } from './wal-format.js';

/** What `mirrorSegments` needs to know about the primary. */
export interface MirrorSegmentsInput {
  dir: string;
  backupDir: string;
  /** The primary's segments in log order, with their committed sizes. */
  segments: ReadonlyArray<{ name: string; size: number }>;
  /** Name of the segment being appended to, if any. */
  active: string | undefined;
  /** How far an existing backup copy of the active segment can be trusted. */
  activeTrust: MirrorTrust;
  openFile: OpenFile;
}

/**
 * Makes the backup directory hold exactly the primary's segments, durably: removes segment
 * files the primary does not have, copies missing or differently sized sealed segments (a
 * sealed segment that was made durable can only be missing or short, not silently different),
 * brings the active one up to date per `activeTrust`, and fsyncs the directory.
 */
export async function mirrorSegments(input: MirrorSegmentsInput): Promise<void> {
  const { dir, backupDir, segments, active, activeTrust, openFile } = input;
  await ensureDir(backupDir, openFile);
  const keep = new Set(segments.map((s) => s.name));
  for (const name of await listDir(backupDir)) {
    if (parseSegmentFileName(name) !== undefined && !keep.has(name)) {
      await rm(join(backupDir, name), { force: true });
    }
  }
  for (const segment of segments) {
    const trust: MirrorTrust = segment.name === active ? activeTrust : 'size';
    await mirrorFile(join(dir, segment.name), join(backupDir, segment.name), segment.size, trust, openFile);
  }
  await fsyncDir(backupDir, openFile);
}
