/**
 * Layout of the data directory and the lock that gives one daemon sole ownership of it.
 *
 *   <dataDir>/epochgraph.lock          pid file of the daemon that owns the directory
 *   <dataDir>/machine.json             the partition count the directory was created with
 *   <dataDir>/p<N>/wal/                WAL segments of partition N (see wal-format.ts)
 *   <dataDir>/p<N>/checkpoints/        checkpoints of partition N (see checkpoint-format.ts)
 *
 * The backup directory, when configured, has the same layout.
 *
 * The lock is a pid file, created atomically (written under a temporary name, then hard-linked
 * into place, so no reader ever sees it half-written). A lock whose process is gone is stale
 * and is replaced. On Linux the process start time is recorded too, so a lock whose pid has
 * been reused by an unrelated process is also recognised as stale.
 */
import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import { ensureDir, fsyncDir } from './durable-io.js';
import { errnoCode } from './storage-error.js';

/** Records the partition count of the data directory. */
export const MACHINE_FILE = 'machine.json';

/** Name of the lock file inside the data directory. */
export const LOCK_FILE_NAME = 'epochgraph.lock';

/** Directories of one partition. */
export interface PartitionPaths {
  root: string;
  wal: string;
  checkpoints: string;
}

/** Where partition `partition` keeps its files under `dataDir` (or under the backup directory). */
export function partitionPaths(dataDir: string, partition: number): PartitionPaths {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new RangeError(`partition must be a non-negative integer, got ${partition}`);
  }
  const root = join(dataDir, `p${partition}`);
  return { root, wal: join(root, 'wal'), checkpoints: join(root, 'checkpoints') };
}

/** Content of the lock file. */
interface LockInfo {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), to tell a reused pid apart. */
  startTime: string | null;
  hostname: string;
  createdAt: string;
}

/** A held data directory lock. */
export interface DataDirLock {
  readonly path: string;
  readonly pid: number;
  /** The pid of a stale lock that was replaced when this one was taken, if any. */
  readonly replacedStalePid: number | undefined;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/** Start time of a process from /proc/<pid>/stat (field 22), or null where /proc is unavailable. */
export function processStartTime(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const STARTTIME_INDEX = 22 - 3;
    return fields[STARTTIME_INDEX] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `info` is still running. */
function holderAlive(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if (errnoCode(err) !== 'EPERM') return false;
  }
  if (info.startTime === null) return true;
  const now = processStartTime(info.pid);
  return now === null || now === info.startTime;
}

function parseLockInfo(text: string): LockInfo | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object') return undefined;
    const o = v as Record<string, unknown>;
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0) return undefined;
    return {
      pid: o.pid as number,
      startTime: typeof o.startTime === 'string' ? o.startTime : null,
      hostname: typeof o.hostname === 'string' ? o.hostname : '',
      createdAt: typeof o.createdAt === 'string' ? o.createdAt : '',
    };
  } catch {
    return undefined;
  }
}

const LOCK_ATTEMPTS = 3;

/**
 * Takes the data directory lock, creating the directory if needed. Throws an INTERNAL error
 * with `details.reason = 'DATA_DIR_LOCKED'` naming the holder's pid if a live process holds it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await ensureDir(dataDir);
  const path = join(dataDir, LOCK_FILE_NAME);
  const mine: LockInfo = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: hostname(),
    createdAt: new Date().toISOString(),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  let replacedStalePid: number | undefined;
  await writeFile(tmp, `${JSON.stringify(mine)}\n`);
  try {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      try {
        await link(tmp, path);
        await fsyncDir(dataDir);
        const release = async () => {
          const current = parseLockInfo(await readFile(path, 'utf8').catch(() => ''));
          if (current?.pid === mine.pid && current.startTime === mine.startTime) {
            await rm(path, { force: true });
          }
        };
        return { path, pid: mine.pid, replacedStalePid, release };
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      const before = await stat(path).catch(() => undefined);
      if (!before) continue;
      const holder = parseLockInfo(await readFile(path, 'utf8').catch(() => ''));
      if (holder && holderAlive(holder)) {
        const self = holder.pid === process.pid ? ' (this process)' : '';
        throw new EpochgraphError(
          'INTERNAL',
          `data directory ${dataDir} is locked by pid ${holder.pid}${self} on ${holder.hostname || 'an unknown host'} since ${holder.createdAt || 'an unknown time'} (${path}); is another epochgraph daemon using it?`,
          { reason: 'DATA_DIR_LOCKED', pid: holder.pid, lockFile: path },
        );
      }
      // Stale. Move it aside rather than delete it, then check that what was moved is the
      // file judged stale: another starter may have replaced it in between.
      const aside = `${path}.stale.${process.pid}`;
      try {
        await rename(path, aside);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      const moved = await stat(aside);
      if (moved.ino !== before.ino) {
        // Someone else's fresh lock: put it back (fails harmlessly if yet another one appeared).
        await link(aside, path).catch(() => undefined);
      } else {
        replacedStalePid = holder?.pid;
      }
      await rm(aside, { force: true });
    }
    throw new EpochgraphError(
      'INTERNAL',
      `could not take the lock ${path}: other processes keep replacing it`,
      {
        reason: 'DATA_DIR_LOCKED',
        lockFile: path,
      },
    );
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * The data dir remembers its partition count (written on first use); another count would
 * scramble ownership, so it is refused with INVALID_REQUEST.
 */
export async function checkMachineFile(dataDir: string, partitions: number): Promise<void> {
  const file = join(dataDir, MACHINE_FILE);
  let raw: string | null = null;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  if (raw === null) {
    const tmp = `${file}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ partitions, createdAt: new Date().toISOString() })}\n`);
    await rename(tmp, file);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new EpochgraphError(
      'INVALID_REQUEST',
      `${file} is not valid JSON; it records the data dir's partition count`,
    );
  }
  const p = (parsed as { partitions?: unknown }).partitions;
  if (p !== partitions) {
    throw new EpochgraphError(
      'INVALID_REQUEST',
      `the data dir ${dataDir} was created with ${String(p)} partitions; refusing to start with ${partitions}`,
      { recorded: p, requested: partitions },
    );
  }
}
