/**
 * Checkpoints of one partition: large opaque bodies written as a stream, committed atomically
 * (temp file, fdatasync, rename, directory fsync), mirrored to the backup directory in the
 * success path, and loaded with a fallback to the previous checkpoint when the newest one does
 * not verify. Format in checkpoint-format.ts.
 *
 * With a backup, both temp files are written and made durable before either is renamed. A
 * backup failure before the renames aborts both (nothing changes); a failure of the backup
 * rename removes the primary's new file again. Either way the checkpoint rejects with
 * BACKUP_UNAVAILABLE, the previous checkpoints stay, and both directories hold the same set.
 */
import { constants as bufferConstants } from 'node:buffer';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import {
  CHECKPOINT_HEADER_BYTES,
  type CheckpointHeader,
  checkpointFileName,
  checkpointTempName,
  encodeCheckpointHeader,
  isCheckpointTempName,
  parseCheckpointFileName,
  readCheckpointHeader,
} from './checkpoint-format.js';
import { crc32c } from './crc32c.js';
import {
  closeQuietly,
  defaultOpenFile,
  ensureDir,
  fsyncDir,
  listDir,
  type OpenFile,
  readFully,
  writeFully,
} from './durable-io.js';
import { backupUnavailable, CorruptionError, errnoCode, primaryFailure } from './storage-error.js';
import { isValidEpoch } from './wal-format.js';

/** Chunks smaller than this are gathered into one buffer before they are written. */
const STAGING_BYTES = 4 * 1024 * 1024;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
const DEFAULT_KEEP = 2;

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

interface Copy {
  dir: string;
  tmp: string;
  fh: FileHandle;
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
async function verifyCheckpoint(path: string, epoch: number): Promise<CheckpointHeader | string> {
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
    return new CheckpointWriter(this, epoch, primary, backup, this.openFile, () => {
      this.writing = false;
    });
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

async function discard(copy: Copy | undefined): Promise<void> {
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
  private readonly store: CheckpointStore;
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
    store: CheckpointStore,
    epoch: number,
    primary: Copy,
    backup: Copy | undefined,
    openFile: OpenFile,
    done: () => void,
  ) {
    this.store = store;
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
      const { retained, deleted } = await this.store.prune(this.epoch);
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

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
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
