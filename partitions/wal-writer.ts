/**
 * The WAL writer of one partition: group commit with an optional synchronous backup mirror.
 *
 * `append` encodes a record into the open group's buffer (no I/O). `seal(epoch)` closes the
 * group with a SEAL frame and writes it with one positional write and one fdatasync per copy
 * (primary and backup in parallel); it resolves only when both copies are durable. A seal that
 * starts a new segment also fsyncs the directory of each copy, so the new file itself survives.
 *
 * Failures (TierStore semantics: the backup is part of the success path):
 * - If the backup fails during a seal, the seal rejects with BACKUP_UNAVAILABLE and nothing is
 *   acknowledged. The primary write ran in parallel and may have completed: then the group is
 *   whole in the primary (`details.loggedInPrimary`), its epoch is used up (`lastEpoch`), and a
 *   restart replays it like any committed group. It was never acknowledged, so reappearing is
 *   allowed; it is never partial.
 * - The backup is then out of sync until a later seal re-syncs it first; its sync state and
 *   re-sync rules are in wal-backup.ts.
 * - A primary failure rolls the segment back to its previous length and rejects with INTERNAL;
 *   if even the rollback fails, the writer refuses all further seals until reopened, because
 *   appending after a damaged frame would turn a torn tail into corruption.
 */
import { type FileHandle, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import { closeQuietly, fsyncDir, type OpenFile, writeFully } from './durable-io.js';
import { backupUnavailable, primaryFailure } from './storage-error.js';
import { WalBackup } from './wal-backup.js';
import { isValidEpoch, segmentFileName } from './wal-format.js';
import { GroupEncoder } from './wal-group-encoder.js';
import type { WalTornTail } from './wal-scan.js';

/** Options of `openWal`. */
export interface WalOptions {
  /** The partition's WAL directory; created if missing. */
  dir: string;
  /** Mirror directory; every seal is durable there too before it resolves. */
  backupDir?: string;
  /** A new segment starts when the next group would make the current one larger; default 64 MiB. */
  segmentBytes?: number;
  /** Epoch already durable elsewhere (the checkpoint's); seals must be greater. Default 0. */
  afterEpoch?: number;
  /** Test hook: how files are opened. Defaults to `fs.promises.open`. */
  openFile?: OpenFile;
}

/** What `openWal` repaired. */
export interface WalRecovery {
  /** The torn tail that was cut off, if any. */
  tail: WalTornTail | null;
  /** Segment files removed because nothing committed was left in them. */
  removedSegments: string[];
  /** Set when the backup could not be synced at open; seals fail until it can be. */
  backupError: EpochgraphError | undefined;
}

/** A durable, acknowledged seal. */
export interface SealResult {
  epoch: number;
  /** Bytes written per copy: the records' frames plus the SEAL frame. */
  bytes: number;
  records: number;
  segment: string;
  /** Whether the group is durable in the backup directory too. */
  mirrored: boolean;
}

/** @internal A segment file as the writer tracks it. */
export interface Segment {
  name: string;
  firstEpoch: number;
  lastEpoch: number | undefined;
  size: number;
}

interface WriterConfig {
  dir: string;
  backupDir: string | undefined;
  segmentBytes: number;
  openFile: OpenFile;
}

/** The segment being appended to; its backup copy's handle is in WalBackup. */
interface ActiveSegment {
  segment: Segment;
  primary: FileHandle;
}

/** A group buffer larger than this is dropped after its seal instead of being kept for reuse. */
const MAX_SPARE_BYTES = 16 * 1024 * 1024;

/** The single writer of one partition's WAL. Create with `openWal` (wal-open.ts). */
export class WalWriter {
  readonly dir: string;
  readonly backupDir: string | undefined;
  readonly segmentBytes: number;
  readonly recovery: WalRecovery;
  private readonly openFile: OpenFile;
  private readonly segments: Segment[];
  private active: ActiveSegment | undefined;
  private encoder = new GroupEncoder();
  private spare: GroupEncoder | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private written: number;
  private requested: number;
  /** The backup copy, when a backup directory is configured. */
  private readonly mirror: WalBackup | undefined;
  private broken: EpochgraphError | undefined;
  private closed = false;

  /** @internal Use `openWal`. */
  constructor(
    config: WriterConfig,
    state: { segments: Segment[]; lastEpoch: number; recovery: WalRecovery },
  ) {
    this.dir = config.dir;
    this.backupDir = config.backupDir;
    this.segmentBytes = config.segmentBytes;
    this.openFile = config.openFile;
    this.segments = state.segments;
    this.written = state.lastEpoch;
    this.requested = state.lastEpoch;
    this.recovery = state.recovery;
    this.mirror =
      config.backupDir === undefined ? undefined : new WalBackup(config.backupDir, config.openFile);
  }

  /**
   * Highest epoch whose group is in the primary: acknowledged, or logged by a seal that failed
   * only on the backup. A seal's epoch must also exceed every epoch passed to `seal` before,
   * including seals that failed without logging anything.
   */
  get lastEpoch(): number {
    return this.written;
  }
  /** Records appended since the last `seal` call. */
  get pendingRecords(): number {
    return this.encoder.records;
  }
  /** Encoded bytes appended since the last `seal` call. */
  get pendingBytes(): number {
    return this.encoder.length;
  }
  /** Whether a backup is configured and currently in sync; the last backup error if not. */
  get backup(): { configured: boolean; inSync: boolean; error: EpochgraphError | undefined } {
    return {
      configured: this.mirror !== undefined,
      inSync: this.mirror?.inSync ?? true,
      error: this.mirror?.error,
    };
  }
  /** Segment files in log order, with their epoch range and committed size. */
  get segmentList(): ReadonlyArray<Readonly<Segment>> {
    return this.segments;
  }

  /** Adds a record (any msgpack-encodable value) to the open group. Throws TOO_LARGE past 256 MiB. */
  append(value: unknown): void {
    this.checkOpen();
    this.encoder.appendValue(value);
  }

  /** Adds a record of caller-encoded bytes to the open group; `readWal` returns them unchanged. */
  appendBytes(bytes: Uint8Array): void {
    this.checkOpen();
    this.encoder.appendBytes(bytes);
  }

  /**
   * Commits the records appended since the previous call as epoch `epoch`: one write and one
   * fdatasync per copy. Resolves when durable in the primary and the backup. Calls may overlap;
   * they run in call order, and records appended meanwhile belong to the next seal.
   */
  seal(epoch: number, sealedAtMs: number): Promise<SealResult> {
    try {
      this.checkOpen();
      if (!isValidEpoch(epoch) || epoch <= this.requested) {
        throw new EpochgraphError(
          'INTERNAL',
          `seal epoch ${epoch} must be a safe integer above the last epoch ${this.requested}`,
        );
      }
      if (!Number.isFinite(sealedAtMs) || sealedAtMs < 0) {
        throw new EpochgraphError('INTERNAL', `sealedAtMs ${sealedAtMs} is not a time`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    this.requested = epoch;
    const group = this.encoder;
    this.encoder = this.spare ?? new GroupEncoder();
    this.spare = undefined;
    return this.enqueue(() => this.writeGroup(epoch, sealedAtMs, group)).finally(() => {
      group.reset();
      if (this.spare === undefined && group.capacity <= MAX_SPARE_BYTES) this.spare = group;
    });
  }

  /**
   * Deletes whole segments whose groups all have epoch ≤ `epoch`, in both copies, once a
   * checkpoint covers them. Returns the deleted file names. Backup errors only mark the backup
   * out of sync (the next seal re-syncs it and removes what is left there).
   */
  truncateThrough(epoch: number): Promise<string[]> {
    try {
      this.checkOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(async () => {
      const removed: string[] = [];
      while (this.segments.length > 0) {
        const segment = this.segments[0];
        if (segment.lastEpoch === undefined || segment.lastEpoch > epoch) break;
        if (this.active?.segment === segment) await this.closeActive();
        try {
          await rm(join(this.dir, segment.name), { force: true });
        } catch (err) {
          throw primaryFailure(`could not delete WAL segment ${join(this.dir, segment.name)}`, err);
        }
        this.segments.shift();
        removed.push(segment.name);
        if (this.mirror !== undefined) await this.mirror.removeSegment(segment.name);
      }
      if (removed.length > 0) {
        await fsyncDir(this.dir, this.openFile);
        if (this.mirror !== undefined) await this.mirror.syncDir();
      }
      return removed;
    });
  }

  /** Waits for pending seals, then closes the files. Records appended but not sealed are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.closeActive();
  }

  /** @internal Continues appending to the newest segment after a restart. */
  async reopenActive(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    if (!last) return;
    const primary = await this.openFile(join(this.dir, last.name), 'r+');
    this.active = { segment: last, primary };
  }

  private checkOpen(): void {
    if (this.closed) throw new EpochgraphError('INTERNAL', `WAL ${this.dir} is closed`);
    if (this.broken) throw this.broken;
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async writeGroup(epoch: number, sealedAtMs: number, group: GroupEncoder): Promise<SealResult> {
    if (this.broken) throw this.broken;
    if (this.mirror !== undefined && !this.mirror.inSync) await this.resyncBackup('rewrite-active', epoch);
    group.appendSeal(epoch, this.written, sealedAtMs);
    const bytes = group.bytes;
    const current = this.active?.segment;
    if (!current || (current.size > 0 && current.size + bytes.length > this.segmentBytes)) {
      await this.startSegment(epoch);
    }
    // A reopened segment gets its backup handle from the re-sync; never write unmirrored.
    if (this.mirror !== undefined && !this.mirror.segment) await this.resyncBackup('compare-active', epoch);
    const active = this.active as ActiveSegment;
    const position = active.segment.size;
    const backup = this.mirror?.segment;
    const [primaryResult, backupResult] = await Promise.allSettled([
      this.writeDurably(active.primary, bytes, position),
      backup ? this.writeBackup(backup, bytes, position) : Promise.resolve(),
    ]);
    if (primaryResult.status === 'rejected') {
      // The backup may now hold a group the primary lost; the next seal re-syncs it.
      if (backup) this.mirror?.markFailed(new Error('primary write failed; backup state unknown'));
      await this.rollBack(active, position);
      throw primaryFailure(
        `WAL write of epoch ${epoch} to ${join(this.dir, active.segment.name)} failed`,
        primaryResult.reason,
        { epoch },
      );
    }
    active.segment.size += bytes.length;
    active.segment.lastEpoch = epoch;
    this.written = epoch;
    if (backupResult.status === 'rejected') {
      this.mirror?.markFailed(backupResult.reason);
      throw backupUnavailable(
        `WAL backup write of epoch ${epoch} in ${this.backupDir} failed; the epoch is logged in the primary but not acknowledged`,
        backupResult.reason,
        { epoch, loggedInPrimary: true, backupDir: this.backupDir },
      );
    }
    return {
      epoch,
      bytes: bytes.length,
      records: group.records,
      segment: active.segment.name,
      mirrored: !!backup,
    };
  }

  private async writeDurably(fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
    await writeFully(fh, bytes, 0, bytes.length, position);
    // fdatasync also persists the new file size, which is what reading the appended bytes needs.
    await fh.datasync();
  }

  private async writeBackup(fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
    // Writes to an open file succeed even after someone deleted it or the whole backup
    // directory; one fstat per seal notices that instead of mirroring into a dead inode.
    if ((await fh.stat()).nlink === 0) {
      throw Object.assign(new Error('the backup segment file was deleted'), { code: 'ENOENT' });
    }
    await this.writeDurably(fh, bytes, position);
  }

  /** Starts segment `wal-<epoch>.log` in both copies; the backup first, so a backup failure leaves the primary untouched. */
  private async startSegment(epoch: number): Promise<void> {
    await this.closeActive();
    const name = segmentFileName(epoch);
    if (this.mirror !== undefined) await this.mirror.createSegment(name, epoch);
    const path = join(this.dir, name);
    let primary: FileHandle | undefined;
    try {
      primary = await this.openFile(path, 'wx');
      await fsyncDir(this.dir, this.openFile);
    } catch (err) {
      await closeQuietly(primary);
      await this.mirror?.closeSegment();
      if (primary) await rm(path, { force: true }).catch(() => undefined);
      // The backup has a segment the primary does not: re-sync before the next seal.
      if (this.mirror !== undefined) this.mirror.markFailed(err);
      throw primaryFailure(`could not create WAL segment ${path}`, err, { epoch });
    }
    const segment: Segment = { name, firstEpoch: epoch, lastEpoch: undefined, size: 0 };
    this.segments.push(segment);
    this.active = { segment, primary };
  }

  /** Undoes a failed primary write so that the next group does not land after a damaged frame. */
  private async rollBack(active: ActiveSegment, position: number): Promise<void> {
    try {
      if (position === 0) {
        // A new segment must not stay empty under a name that promises its first epoch.
        await this.closeActive();
        await rm(join(this.dir, active.segment.name), { force: true });
        await fsyncDir(this.dir, this.openFile);
        this.segments.pop();
      } else {
        await active.primary.truncate(position);
        await active.primary.datasync();
      }
    } catch (err) {
      this.broken = primaryFailure(
        `WAL ${this.dir} could not be rolled back after a failed write; reopen it to recover`,
        err,
      );
    }
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    if (!active) return;
    await this.mirror?.closeSegment();
    await active.primary.close();
  }

  /**
   * Makes the backup directory an exact copy of the primary's segments (WalBackup.resync).
   * @internal
   */
  async resyncBackup(mode: 'compare-active' | 'rewrite-active', epoch?: number): Promise<void> {
    if (this.mirror === undefined) return;
    await this.mirror.resync(
      { dir: this.dir, segments: this.segments, active: this.active?.segment.name },
      mode,
      epoch,
    );
  }
}
