/**
 * Writing one checkpoint: the body is streamed into a temp file in each copy, then the header,
 * an fdatasync of both, the renames and the directory fsyncs make it current atomically.
 *
 * With a backup, both temp files are written and made durable before either is renamed. A
 * backup failure before the renames aborts both (nothing changes); a failure of the backup
 * rename removes the primary's new file again. Either way the checkpoint rejects with
 * BACKUP_UNAVAILABLE, the previous checkpoints stay, and both directories hold the same set.
 */
import { type FileHandle, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import { CHECKPOINT_HEADER_BYTES, checkpointFileName, encodeCheckpointHeader } from './checkpoint-format.js';
import { crc32c } from './crc32c.js';
import { closeQuietly, fsyncDir, type OpenFile, writeFully } from './durable-io.js';
import { backupUnavailable, primaryFailure } from './storage-error.js';

/** Deletes checkpoints past retention once this one is committed; see CheckpointStore.prune. */
type Prune = (committed: number) => Promise<{ retained: number[]; deleted: string[] }>;

/** Chunks smaller than this are gathered into one buffer before they are written. */
const STAGING_BYTES = 4 * 1024 * 1024;

/** Result of a committed checkpoint. */
export interface CheckpointCommit {
  epoch: number;
  file: string;
  bodyBytes: number;
  bodyCrc: number;
  /** Epochs of the checkpoints kept, newest first (this one included). */
  retained: number[];
  /** Files deleted: older checkpoints past the retention count, and ones that failed to verify. */
  deleted: string[];
  /**
   * The oldest retained checkpoint other than this one, or null: the WAL may be truncated
   * through it, so that falling back to it on load still finds every later epoch in the WAL.
   */
  fallbackEpoch: number | null;
}

/** @internal One copy (primary or backup) of a checkpoint being written. */
export interface Copy {
  dir: string;
  tmp: string;
  fh: FileHandle;
}

/** @internal Closes and deletes a temp copy, ignoring errors. */
export async function discard(copy: Copy | undefined): Promise<void> {
  if (!copy) return;
  await closeQuietly(copy.fh);
  await rm(copy.tmp, { force: true }).catch(() => undefined);
}

/**
 * Streams one checkpoint's body to a temp file in each copy. `write` may be called many times;
 * each call must be awaited before the chunk is reused. `commit` makes it the newest checkpoint.
 */
export class CheckpointWriter {
  readonly epoch: number;
  private readonly prune: Prune;
  private readonly primary: Copy;
  private readonly backup: Copy | undefined;
  private readonly openFile: OpenFile;
  private readonly done: () => void;
  private staging = Buffer.allocUnsafe(STAGING_BYTES);
  private staged = 0;
  private position = CHECKPOINT_HEADER_BYTES;
  private bodyLength = 0;
  private crc = 0;
  private state: 'open' | 'finished' = 'open';
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal Use `CheckpointStore.beginCheckpoint`. */
  constructor(
    prune: Prune,
    epoch: number,
    primary: Copy,
    backup: Copy | undefined,
    openFile: OpenFile,
    done: () => void,
  ) {
    this.prune = prune;
    this.openFile = openFile;
    this.epoch = epoch;
    this.primary = primary;
    this.backup = backup;
    this.done = done;
  }

  /** Body bytes written so far. */
  get bytesWritten(): number {
    return this.bodyLength;
  }

  /** Appends a chunk of the body. Rejects (and aborts the checkpoint) on any I/O error. */
  write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array))
      return Promise.reject(new TypeError('checkpoint chunks must be Uint8Array'));
    return this.enqueue(async () => {
      this.crc = crc32c(chunk, this.crc);
      this.bodyLength += chunk.length;
      if (chunk.length >= STAGING_BYTES / 2) {
        await this.flush();
        await this.writeBoth(chunk);
        return;
      }
      if (this.staged + chunk.length > STAGING_BYTES) await this.flush();
      this.staging.set(chunk, this.staged);
      this.staged += chunk.length;
    });
  }

  /** Makes the checkpoint durable and current in both copies, then prunes old ones. */
  commit(): Promise<CheckpointCommit> {
    return this.enqueue(async () => {
      await this.flush();
      const header = encodeCheckpointHeader({
        epoch: this.epoch,
        bodyLength: this.bodyLength,
        bodyCrc: this.crc,
      });
      await this.onBoth(async (copy) => {
        await writeFully(copy.fh, header, 0, header.length, 0);
        await copy.fh.datasync();
        await copy.fh.close();
      });
      const name = checkpointFileName(this.epoch);
      const file = join(this.primary.dir, name);
      try {
        await rename(this.primary.tmp, file);
        await fsyncDir(this.primary.dir, this.openFile);
      } catch (err) {
        await this.fail();
        throw primaryFailure(`could not commit checkpoint ${file}`, err, { epoch: this.epoch });
      }
      if (this.backup) {
        try {
          await rename(this.backup.tmp, join(this.backup.dir, name));
          await fsyncDir(this.backup.dir, this.openFile);
        } catch (err) {
          // Keep both directories holding the same checkpoints: withdraw the primary's copy.
          await rm(file, { force: true }).catch(() => undefined);
          await fsyncDir(this.primary.dir, this.openFile).catch(() => undefined);
          await this.fail();
          throw backupUnavailable(`could not commit checkpoint ${name} in backup ${this.backup.dir}`, err, {
            epoch: this.epoch,
          });
        }
      }
      this.finish();
      const { retained, deleted } = await this.prune(this.epoch);
      return {
        epoch: this.epoch,
        file,
        bodyBytes: this.bodyLength,
        bodyCrc: this.crc,
        retained,
        deleted,
        fallbackEpoch: retained.length > 1 ? retained[retained.length - 1] : null,
      };
    });
  }

  /** Abandons the checkpoint and removes its temp files. */
  abort(): Promise<void> {
    if (this.state === 'finished') return Promise.resolve();
    return this.queue.then(() => this.fail());
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(() => {
      if (this.state !== 'open')
        throw new EpochgraphError('INTERNAL', `checkpoint ${this.epoch} is already finished`);
      return task();
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async flush(): Promise<void> {
    if (this.staged === 0) return;
    const n = this.staged;
    this.staged = 0;
    await this.writeBoth(this.staging.subarray(0, n));
  }

  private async writeBoth(bytes: Uint8Array): Promise<void> {
    const position = this.position;
    await this.onBoth((copy) => writeFully(copy.fh, bytes, 0, bytes.length, position));
    this.position += bytes.length;
  }

  /** Runs `op` on both copies in parallel; on failure aborts and rejects with the right code. */
  private async onBoth(op: (copy: Copy) => Promise<void>): Promise<void> {
    const [p, b] = await Promise.allSettled([op(this.primary), this.backup ? op(this.backup) : undefined]);
    if (p.status === 'rejected') {
      await this.fail();
      throw primaryFailure(`checkpoint ${this.epoch} write to ${this.primary.tmp} failed`, p.reason, {
        epoch: this.epoch,
      });
    }
    if (b.status === 'rejected') {
      await this.fail();
      throw backupUnavailable(
        `checkpoint ${this.epoch} write to backup ${this.backup?.tmp} failed`,
        b.reason,
        {
          epoch: this.epoch,
        },
      );
    }
  }

  private finish(): void {
    this.state = 'finished';
    this.staging = Buffer.alloc(0);
    this.done();
  }

  private async fail(): Promise<void> {
    if (this.state === 'finished') return;
    this.finish();
    await discard(this.primary);
    await discard(this.backup);
  }
}
