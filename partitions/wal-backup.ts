/**
 * The backup copy of one partition's WAL as its writer keeps it: the backup directory, the
 * handle of the active segment's copy there, and whether that copy is in sync with the primary.
 *
 * It is separate from wal-writer.ts because the backup has its own life between seals
 * (TierStore semantics: the backup is part of the success path, so its state decides whether
 * the next seal may be acknowledged):
 * - Any backup failure marks the backup out of sync and drops its segment handle, so nothing
 *   more is mirrored into a copy that may differ from the primary.
 * - Every later seal first re-syncs the backup from the primary (wal-mirror.ts: missing or
 *   shorter segments copied, the active one rewritten, extra files removed, everything
 *   fsynced). If that fails, the seal rejects with BACKUP_UNAVAILABLE before writing anything,
 *   so the primary grows by at most one unacknowledged group per outage. Once the backup
 *   directory is usable again, the next seal re-syncs it and succeeds: no restart.
 * - Deleting segments a checkpoint covers is done in the backup only while it is in sync; a
 *   failure there only marks it out of sync (the next seal re-syncs it and removes what is left).
 */
import { type FileHandle, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EpochgraphError } from '../src/errors.js';
import { closeQuietly, fsyncDir, type OpenFile } from './durable-io.js';
import { backupUnavailable } from './storage-error.js';
import { type MirrorSegmentsInput, mirrorSegments } from './wal-mirror.js';

/** What the backup needs to know about the primary to re-sync from it. */
export type WalPrimary = Pick<MirrorSegmentsInput, 'dir' | 'segments' | 'active'>;

/** The backup copy of a WAL, owned by its WalWriter (which serializes every call). */
export class WalBackup {
  /** The active segment's file in the backup directory; none until created or re-synced. */
  private handle: FileHandle | undefined;
  private synced = false;
  private lastError: EpochgraphError | undefined;

  constructor(
    readonly dir: string,
    private readonly openFile: OpenFile,
  ) {}

  /** Whether the backup is an exact copy of the primary, so seals may be mirrored into it. */
  get inSync(): boolean {
    return this.synced;
  }
  /** Why the backup is out of sync, if it is. */
  get error(): EpochgraphError | undefined {
    return this.lastError;
  }
  /** The active segment's file in the backup, if the backup has one open. */
  get segment(): FileHandle | undefined {
    return this.handle;
  }

  /** Creates the backup's copy of a new segment; the writer creates the primary's after it. */
  async createSegment(name: string, epoch: number): Promise<void> {
    let backup: FileHandle | undefined;
    try {
      // 'w': the primary is the source of truth; any same-named file in the backup is stale.
      backup = await this.openFile(join(this.dir, name), 'w');
      await fsyncDir(this.dir, this.openFile);
    } catch (err) {
      await closeQuietly(backup);
      this.markFailed(err);
      throw backupUnavailable(`could not create WAL segment ${name} in backup ${this.dir}`, err, {
        epoch,
        loggedInPrimary: false,
        backupDir: this.dir,
      });
    }
    this.handle = backup;
  }

  /** Closes the active segment's file in the backup. */
  async closeSegment(): Promise<void> {
    const fh = this.handle;
    this.handle = undefined;
    await closeQuietly(fh);
  }

  /** Deletes a segment's copy while in sync; an error only marks the backup out of sync. */
  async removeSegment(name: string): Promise<void> {
    if (!this.synced) return;
    try {
      await rm(join(this.dir, name), { force: true });
    } catch (err) {
      this.markFailed(err);
    }
  }

  /** Makes deletions durable while in sync; an error only marks the backup out of sync. */
  async syncDir(): Promise<void> {
    if (!this.synced) return;
    try {
      await fsyncDir(this.dir, this.openFile);
    } catch (err) {
      this.markFailed(err);
    }
  }

  /** The backup may now differ from the primary: mirror nothing into it until a re-sync. */
  markFailed(err: unknown): void {
    this.synced = false;
    this.lastError = backupUnavailable(`WAL backup ${this.dir} is out of sync`, err, {
      backupDir: this.dir,
    });
    if (this.handle) {
      const fh = this.handle;
      this.handle = undefined;
      void closeQuietly(fh);
    }
  }

  /**
   * Makes the backup directory an exact copy of the primary's segments. `compare-active`
   * (at open) rewrites the active segment from its first differing byte; `rewrite-active`
   * (after a failure, when the page cache may hold bytes that never reached the disk) copies
   * it whole. Other segments are copied when missing or of another size.
   */
  async resync(
    primary: WalPrimary,
    mode: 'compare-active' | 'rewrite-active',
    epoch?: number,
  ): Promise<void> {
    const backupDir = this.dir;
    try {
      await mirrorSegments({
        dir: primary.dir,
        backupDir,
        segments: primary.segments,
        active: primary.active,
        activeTrust: mode === 'compare-active' ? 'content' : 'rewrite',
        openFile: this.openFile,
      });
      if (primary.active !== undefined) {
        await closeQuietly(this.handle);
        this.handle = await this.openFile(join(backupDir, primary.active), 'r+');
      }
      this.synced = true;
      this.lastError = undefined;
    } catch (err) {
      this.markFailed(err);
      throw backupUnavailable(`WAL backup ${backupDir} is unavailable and could not be re-synced`, err, {
        epoch,
        loggedInPrimary: false,
        backupDir,
      });
    }
  }
}
