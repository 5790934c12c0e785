/**
 * partitions: the partition worker and its durable file layer.
 *
 * This is the folder's public face. So far it holds the durable layer a partition worker uses:
 * the data directory layout and lock, the WAL (group commit with a synchronous backup mirror)
 * and checkpoints. Recovery order for a worker: `lockDataDir` → `loadLatestCheckpoint` (epoch
 * E) → `openWal({ afterEpoch: E })` (cuts a torn tail, re-syncs the backup) → replay
 * `readWal(dir, { afterEpoch: E })`.
 */

/** Store options, a commit's result, a loaded checkpoint, and a checkpoint skipped on load. */
export type {
  CheckpointCommit,
  CheckpointStoreOptions,
  LoadedCheckpoint,
  SkippedCheckpoint,
} from './checkpoint.js';
/** Opens a partition's checkpoint directory: removes crashed writers' temp files. */
/** A partition's checkpoint directory: `beginCheckpoint(epoch)`, `loadLatest()`. */
/** Streams one checkpoint body (`write` chunks, then `commit` or `abort`). */
/** Newest checkpoint that verifies, falling back past corrupt or truncated ones. */
/** Epochs of the committed checkpoint files in a directory, newest first (not verified). */
export {
  CheckpointStore,
  CheckpointWriter,
  listCheckpoints,
  loadLatestCheckpoint,
  openCheckpointStore,
} from './checkpoint.js';
/** CRC32C (Castagnoli) of `data`, chainable through `previous`; native when available. */
/** Which CRC32C implementation this machine uses: `'native'` (@node-rs/crc32) or `'software'`. */
export { CRC32C_IMPLEMENTATION, crc32c } from './crc32c.js';
/** Directories of one partition, as returned by `partitionPaths`. */
/** A held data directory lock; `release()` removes it. */
export type { DataDirLock, PartitionPaths } from './data-dir.js';
/** Layout of a partition's directories: `<dataDir>/p<N>/{wal,checkpoints}`. */
/** Takes the pid-file lock of a data directory; fails naming the live holder's pid; replaces stale locks. */
/** File name of the data directory lock. */
export { LOCK_FILE_NAME, lockDataDir, partitionPaths } from './data-dir.js';
/** How the durable layer opens files; a test hook for counting fsyncs and injecting faults. */
export type { OpenFile } from './durable-io.js';
/** fsync of a directory, so creations, renames and deletions in it survive a crash. */
/** mkdir -p whose new directories survive a crash (their parents are fsynced). */
/** Writes every byte of a range at a position, looping over short writes. */
export { ensureDir, fsyncDir, writeFully } from './durable-io.js';
/** Damaged durable data that is not a torn tail; names the file and byte offset. */
/** `details.reason` of a CorruptionError once it has crossed a thread boundary as data. */
export { CorruptionError, DATA_CORRUPT } from './storage-error.js';
/** Largest record payload the WAL format allows (256 MiB); larger appends throw TOO_LARGE. */
/** Default WAL segment size (64 MiB). */
export { DEFAULT_SEGMENT_BYTES, MAX_RECORD_BYTES } from './wal-format.js';
/** A committed group, a torn tail, a segment summary, a directory scan, and readWal's options. */
export type { ReadWalOptions, WalGroup, WalScan, WalSegmentInfo, WalTornTail } from './wal-reader.js';
/** Reads the committed groups of a WAL directory after an epoch, in order; read-only. */
/** Validates a WAL directory without decoding records; reports segments and any torn tail. */
/** The async iterable returned by `readWal`; `tail` and `scan` are set once iteration ends. */
export { readWal, scanWal, WalReader } from './wal-reader.js';
/** Options of `openWal`, what it repaired, and the result of a durable seal. */
export type { SealResult, WalOptions, WalRecovery } from './wal-writer.js';
/** Opens a partition's WAL for writing: validates it, cuts a torn tail, re-syncs the backup. */
/** The single writer of a WAL: `append`, `appendBytes`, `seal`, `truncateThrough`, `close`. */
export { openWal, WalWriter } from './wal-writer.js';
