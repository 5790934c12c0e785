/**
 * partitions: the partition worker and its durable file layer.
 *
 * This is the folder's public face. So far it holds the durable layer a partition worker uses:
 * the data directory layout and lock, the WAL (group commit with a synchronous backup mirror)
 * and checkpoints. Recovery order for a worker: `lockDataDir` → `loadLatestCheckpoint` (epoch
 * E) → `openWal({ afterEpoch: E })` (cuts a torn tail, re-syncs the backup) → replay
 * `readWal(dir, { afterEpoch: E })`. Each export also carries TSDoc at its declaration.
 */

export type {
  /** Options of `openCheckpointStore`: directories, retention count, file-open hook. */
  CheckpointStoreOptions,
} from './checkpoint.js';
export {
  /** A partition's checkpoint directory: `beginCheckpoint(epoch)`, `loadLatest()`. */
  CheckpointStore,
  /** Opens a partition's checkpoint directory and removes crashed writers' temp files. */
  openCheckpointStore,
} from './checkpoint.js';
export type {
  /** The newest checkpoint that verified, with its body as a stream or a buffer. */
  LoadedCheckpoint,
  /** A checkpoint file that failed verification on load, and why. */
  SkippedCheckpoint,
} from './checkpoint-load.js';
export {
  /** Epochs of the committed checkpoint files in a directory, newest first (not verified). */
  listCheckpoints,
  /** Newest checkpoint that verifies, falling back past corrupt or truncated ones. */
  loadLatestCheckpoint,
} from './checkpoint-load.js';
export type {
  /** Result of a committed checkpoint: its epoch, the retained set and the WAL truncation point. */
  CheckpointCommit,
} from './checkpoint-writer.js';
export {
  /** Streams one checkpoint body: `write` chunks, then `commit` or `abort`. */
  CheckpointWriter,
} from './checkpoint-writer.js';
export {
  /** Which CRC32C implementation this machine uses: `'native'` (@node-rs/crc32) or `'software'`. */
  CRC32C_IMPLEMENTATION,
  /** CRC32C (Castagnoli) of `data`, chainable through `previous`; native when available. */
  crc32c,
} from './crc32c.js';
export type {
  /** A held data directory lock; `release()` removes it. */
  DataDirLock,
  /** Directories of one partition, as returned by `partitionPaths`. */
  PartitionPaths,
} from './data-dir.js';
export {
  /** File name of the data directory lock. */
  LOCK_FILE_NAME,
  /** Takes the pid-file lock of a data directory; fails naming a live holder's pid; replaces stale locks. */
  lockDataDir,
  /** Layout of a partition's directories: `<dataDir>/p<N>/{wal,checkpoints}`. */
  partitionPaths,
} from './data-dir.js';
export type {
  /** How the durable layer opens files; a test hook for counting fsyncs and injecting faults. */
  OpenFile,
} from './durable-io.js';
export {
  /** mkdir -p whose new directories survive a crash (their parents are fsynced). */
  ensureDir,
  /** fsync of a directory, so creations, renames and deletions in it survive a crash. */
  fsyncDir,
  /** Writes every byte of a range at a position, looping over short writes. */
  writeFully,
} from './durable-io.js';
export type {
  /** A visible epoch's seal: per-partition results, latency, backup status. */
  SealEvent,
} from './epoch-clock.js';
export type {
  /** Metadata of a visible epoch (seal time, per-partition counts). */
  EpochInfo,
  /** A pinned epoch, kept readable until it expires or is deleted. */
  Pin,
} from './epoch-ledger.js';
export type {
  /** Options of `Machine.open`: data dir, partitions, epoch clock, retention, backup, limits. */
  MachineOptions,
  /** Per-partition statistics of a machine. */
  MachineStats,
  /** The acknowledgement of a batch: its epoch and what it applied. */
  SubmitResult,
} from './machine.js';
export {
  /** The partition workers of one daemon: ordered, durable, atomic batches; snapshots; pins. */
  Machine,
} from './machine.js';
export type {
  /** A partition's checkpoint that ended: epoch, bytes, wall and encoding time, or failed. */
  CheckpointReport,
} from './protocol.js';
export {
  /** Damaged durable data that is not a torn tail; names the file and byte offset. */
  CorruptionError,
  /** `details.reason` of a CorruptionError once it has crossed a thread boundary as data. */
  DATA_CORRUPT,
} from './storage-error.js';
export {
  /** Default WAL segment size (64 MiB). */
  DEFAULT_SEGMENT_BYTES,
  /** Largest record payload the WAL format allows (256 MiB); larger appends throw TOO_LARGE. */
  MAX_RECORD_BYTES,
} from './wal-format.js';
export {
  /** Opens a partition's WAL for writing: validates it, cuts a torn tail, re-syncs the backup. */
  openWal,
} from './wal-open.js';
export type {
  /** Options of `readWal`: the base epoch to replay after. */
  ReadWalOptions,
  /** One committed group: epoch, predecessor, seal time and decoded records. */
  WalGroup,
} from './wal-reader.js';
export {
  /** Reads the committed groups of a WAL directory after an epoch, in order; read-only. */
  readWal,
  /** The async iterable returned by `readWal`; `tail` and `scan` are set once iteration ends. */
  WalReader,
} from './wal-reader.js';
export type {
  /** Summary of a whole WAL directory: segments, last epoch, torn tail. */
  WalScan,
  /** What a scan learned about one segment file. */
  WalSegmentInfo,
  /** Where the newest segment must be truncated, and why. */
  WalTornTail,
} from './wal-scan.js';
export {
  /** Validates a WAL directory without decoding records; reports segments and any torn tail. */
  scanWal,
} from './wal-scan.js';
export type {
  /** A durable, acknowledged seal. */
  SealResult,
  /** Options of `openWal`. */
  WalOptions,
  /** What `openWal` repaired: torn tail, removed segments, backup state at open. */
  WalRecovery,
} from './wal-writer.js';
export {
  /** The single writer of a WAL: `append`, `appendBytes`, `seal`, `truncateThrough`, `close`. */
  WalWriter,
} from './wal-writer.js';
