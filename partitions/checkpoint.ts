/**
 * The checkpoint directory of one partition: checkpoints of large opaque bodies, written as a
 * stream and committed atomically (temp file, fdatasync, rename, directory fsync), mirrored to
 * the backup directory in the success path, pruned to the newest valid ones, and loaded with a
 * fallback to the previous checkpoint when the newest one does not verify. Format in
 * checkpoint-format.ts, writing in checkpoint-writer.ts, loading in checkpoint-load.ts.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import { checkpointFileName, checkpointTempName, isCheckpointTempName } from './checkpoint-format.js';
import {
  type LoadedCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  verifyCheckpoint,
} from './checkpoint-load.js';
import { CheckpointWriter, type Copy, discard } from './checkpoint-writer.js';
import { defaultOpenFile, ensureDir, fsyncDir, isDirectory, listDir, type OpenFile } from './durable-io.js';
import { backupUnavailable, primaryFailure } from './storage-error.js';
import { isValidEpoch } from './wal-format.js';

const DEFAULT_KEEP = 2;

/** Options of `openCheckpointStore`. */
export interface CheckpointStoreOptions {
  /** The partition's checkpoint directory; created if missing. */
  dir: string;
  /** Mirror directory: a checkpoint is committed only once it is durable there too. */
  backupDir?: string;
  /** Valid checkpoints kept after a commit, default 2 (the newest and one to fall back to). */
  keep?: number;
  /** Test hook: how files are opened. Defaults to `fs.promises.open`. */
  openFile?: OpenFile;
}

/** Checkpoint directory of one partition (and its mirror). Create with `openCheckpointStore`. */
export class CheckpointStore {
  readonly dir: string;
  readonly backupDir: string | undefined;
  readonly keep: number;
  /** Temp files of crashed writers removed at open. */
  readonly removedTempFiles: string[];
  private readonly openFile: OpenFile;
  private writing = false;

  /** @internal Use `openCheckpointStore`. */
  constructor(
    config: Required<Omit<CheckpointStoreOptions, 'backupDir'>> & CheckpointStoreOptions,
    removed: string[],
  ) {
    this.dir = config.dir;
    this.backupDir = config.backupDir;
    this.keep = config.keep;
    this.openFile = config.openFile;
    this.removedTempFiles = removed;
  }

  /** The newest checkpoint that verifies (see `loadLatestCheckpoint`). */
  loadLatest(): Promise<LoadedCheckpoint | null> {
    return loadLatestCheckpoint(this.dir);
  }

  /**
   * Starts checkpoint `epoch`, which must be above every checkpoint in the directory. Only one
   * checkpoint can be in progress. Rejects with BACKUP_UNAVAILABLE if the backup cannot take it.
   */
  async beginCheckpoint(epoch: number): Promise<CheckpointWriter> {
    if (!isValidEpoch(epoch))
      throw new RangeError(`checkpoint epoch must be a safe integer >= 1, got ${epoch}`);
    if (this.writing)
      throw new EpochgraphError('INTERNAL', `a checkpoint of ${this.dir} is already in progress`);
    const newest = (await listCheckpoints(this.dir))[0];
    if (newest !== undefined && epoch <= newest) {
      throw new EpochgraphError(
        'INTERNAL',
        `checkpoint epoch ${epoch} is not above the newest checkpoint ${newest}`,
      );
    }
    this.writing = true;
    let primary: Copy | undefined;
    try {
      primary = await this.createTemp(this.dir, epoch);
    } catch (err) {
      this.writing = false;
      throw primaryFailure(`could not create a checkpoint in ${this.dir}`, err, { epoch });
    }
    let backup: Copy | undefined;
    if (this.backupDir !== undefined) {
      try {
        await ensureDir(this.backupDir, this.openFile);
        backup = await this.createTemp(this.backupDir, epoch);
      } catch (err) {
        this.writing = false;
        await discard(primary);
        throw backupUnavailable(`could not create a checkpoint in backup ${this.backupDir}`, err, { epoch });
      }
    }
    return new CheckpointWriter(
      (c) => this.prune(c),
      epoch,
      primary,
      backup,
      this.openFile,
      () => {
        this.writing = false;
      },
    );
  }

  private async createTemp(dir: string, epoch: number): Promise<Copy> {
    const tmp = join(dir, checkpointTempName(epoch));
    // 'w': a temp file of the same name can only be a leftover of a crashed attempt.
    const fh = await this.openFile(tmp, 'w');
    return { dir, tmp, fh };
  }

  /**
   * Keeps the newest `keep` checkpoints that verify (the one just committed counts without
   * re-reading it) and deletes the rest in both directories.
   * @internal
   */
  async prune(committed: number): Promise<{ retained: number[]; deleted: string[] }> {
    const retained = [committed];
    const deleted: string[] = [];
    for (const epoch of await listCheckpoints(this.dir)) {
      if (epoch >= committed) continue;
      const name = checkpointFileName(epoch);
      if (
        retained.length < this.keep &&
        typeof (await verifyCheckpoint(join(this.dir, name), epoch)) !== 'string'
      ) {
        retained.push(epoch);
        continue;
      }
      await rm(join(this.dir, name), { force: true });
      deleted.push(name);
    }
    if (deleted.length > 0) await fsyncDir(this.dir, this.openFile);
    if (this.backupDir !== undefined) {
      // Best effort: the checkpoint is already committed in both copies; a file left here is
      // deleted by the next prune.
      try {
        let removed = false;
        for (const epoch of await listCheckpoints(this.backupDir)) {
          if (epoch < committed && !retained.includes(epoch)) {
            await rm(join(this.backupDir, checkpointFileName(epoch)), { force: true });
            removed = true;
          }
        }
        if (removed) await fsyncDir(this.backupDir, this.openFile);
      } catch {
        // See above.
      }
    }
    return { retained, deleted };
  }
}

/**
 * Opens a partition's checkpoint directory (creating it), and removes temp files that crashed
 * writers left in it and in the backup. Refuses when the directory is missing but the backup
 * holds checkpoints, since pruning would then delete what may be the only copy.
 */
export async function openCheckpointStore(options: CheckpointStoreOptions): Promise<CheckpointStore> {
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new RangeError(`keep must be an integer >= 1, got ${keep}`);
  const openFile = options.openFile ?? defaultOpenFile;
  const { dir, backupDir } = options;
  if (backupDir !== undefined && !(await isDirectory(dir))) {
    const inBackup = await listCheckpoints(backupDir).catch(() => []);
    if (inBackup.length > 0) {
      throw new EpochgraphError(
        'INTERNAL',
        `checkpoint directory ${dir} does not exist but the backup ${backupDir} holds ${inBackup.length} checkpoints; restore the data directory from the backup, or remove the backup to start empty`,
        { reason: 'PRIMARY_MISSING', dir, backupDir },
      );
    }
  }
  await ensureDir(dir, openFile);
  const removed: string[] = [];
  for (const d of backupDir === undefined ? [dir] : [dir, backupDir]) {
    try {
      for (const name of await listDir(d)) {
        if (isCheckpointTempName(name)) {
          await rm(join(d, name), { force: true });
          removed.push(join(d, name));
        }
      }
    } catch (err) {
      // An unusable backup is reported by the first checkpoint that needs it.
      if (d === dir) throw err;
    }
  }
  return new CheckpointStore({ dir, backupDir, keep, openFile }, removed);
}
