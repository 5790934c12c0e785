/**
 * The shared-memory layout of one partition: every index into the control block is a named
 * constant here, so the memory ordering can be checked by reading the code.
 *
 * A partition's memory is a fixed set of SharedArrayBuffers created once, when the store is
 * created: a control block and a pool of growable "slots". Slots are reserved up front and
 * grown in place, never replaced, so a reader's descriptor never goes stale and no reader
 * ever needs a new buffer from the writer.
 *
 * Slot roles, by index:
 *   [0, indexSegments)                  id-index segments (grow in place, rehash in place)
 *   indexSegments                       external keys by local id (Float64)
 *   indexSegments + 1                   string-key heap (bytes)
 *   indexSegments + 2                   id-index direct map (u32 local id + 1, by integer id)
 *   [arenaBase, arenaBase + maxChunks)  the word arena, a list of chunks
 *   [columnBase, poolSize)              edge-property columns, parallel to arena chunks,
 *                                       assigned on demand (ECOL_DIR in the control block)
 *
 * Storage modules take these constants (and those of record-table.ts, record-read.ts and
 * id-index-views.ts) as module-local copies, `import * as layout` then `const { ... } =
 * layout`, not as named imports. V8 in Node 20 does not fold an imported binding into
 * optimized code (each use loads it and checks it is initialized), but it folds a module's
 * own consts: a loop that indexes with an imported stride ran ~1.4x slower than with a local
 * one in a micro-benchmark, and the local copies made bulk inserts 9-10% and seals 14-25%
 * faster and compacted PageRank's pull 5% faster, in same-process A/Bs
 * (scratch/insert-ab.mjs, seal-ab.mjs, pull-ab2.mjs).
 */

/**
 * Touch loops (loads that only warm the cache) sum what they load into a sink, masked to stay
 * a small integer: a sum that outgrew one changed representation (a field from small integer
 * to double, a local with an overflow check), and the optimized code that relied on it was
 * thrown away and compiled again.
 */
export const SINK_MASK = 0x3fffffff;

/** Words (u32) in the control block. */
export const CTL_WORDS = 16384;

export const CTL_MAGIC = 0;
export const CTL_VERSION = 1;
export const CTL_PARTITION = 2;
export const CTL_PARTITIONS = 3;
/**
 * The newest sealed epoch. Written only by the writer, with Atomics.store, after every byte
 * of that epoch is in place; readers take it with Atomics.load (acquire), so everything the
 * writer did before the store is visible to them.
 */
export const CTL_PUBLISHED = 4;
/** The oldest retained epoch. Readers refuse to open older epochs (EPOCH_GONE). */
export const CTL_OLDEST = 5;
/** Arena address of the published schema blob (JSON); changes at a seal, before PUBLISHED. */
export const CTL_SCHEMA_PTR = 6;
/** Arena chunks grown so far (informational; readers look at each slot's byteLength). */
export const CTL_CHUNKS_USED = 7;
/** Writer heartbeat / generation, bumped on each seal (diagnostics only). */
export const CTL_SEALS = 8;
/**
 * Local ids assigned as of the newest seal; stored before PUBLISHED, so for any epoch a
 * reader can open it is an upper bound on that epoch's local ids.
 */
export const CTL_LIDS = 9;
/**
 * Integer ids below this are indexed by the direct map (id-index.ts), not the hash segments.
 * Only grows; the writer stores it (release) after the map holds every id below it, and readers
 * load it (acquire) when an id above what they last saw is not in the hash.
 */
export const CTL_DIRECT_BOUND = 10;

/** Directory pointer of each record table (atomic), TABLES_MAX entries. */
export const CTL_TABLE_DIR = 64;
export const TABLES_MAX = 4096;

/** Reader registry: REGISTRY_SLOTS entries of REGISTRY_STRIDE words. */
export const CTL_REGISTRY = CTL_TABLE_DIR + TABLES_MAX;
export const REGISTRY_SLOTS = 256;
export const REGISTRY_STRIDE = 4;
/** snapshot epoch + 1 of the reader in this slot; 0 = free. Claimed with compareExchange. */
export const REG_SNAP = 0;
/** published epoch + 1 when the reader's operation began (its grace stamp). */
export const REG_START = 1;
/** threadId + 1 of the owner, so slots of a dead thread can be released. */
export const REG_OWNER = 2;

/** Edge-property column chunk directory: ECOL_MAX columns x maxChunks entries (slot + 1). */
export const CTL_ECOL_DIR = CTL_REGISTRY + REGISTRY_SLOTS * REGISTRY_STRIDE;
export const ECOL_MAX = 128;
export const ECOL_CHUNKS_MAX = 64;
export const CTL_END = CTL_ECOL_DIR + ECOL_MAX * ECOL_CHUNKS_MAX;

export const STORE_MAGIC = 0x45504752; // "EPGR"
export const STORE_VERSION = 1;

/**
 * A record table maps items (vertices of an adjacency store, or pages of a column) to a
 * versioned record [head, count, x]. Items are grouped in blocks of RECORDS_PER_BLOCK; each
 * record block starts with a small header.
 */
export const RECORD_BITS = 12;
export const RECORDS_PER_BLOCK = 1 << RECORD_BITS;
export const RECORD_MASK = RECORDS_PER_BLOCK - 1;
/** Sequence lock of the block: odd while the writer changes records in it. */
export const RB_SEQ = 0;
/** Newest epoch at which any record in the block changed version. */
export const RB_MAX_EPOCH = 1;
export const RB_HEADER = 4;
export const REC_HEAD = 0;
export const REC_COUNT = 1;
/**
 * REC_COUNT bit: the current version has deletion stamps (its node's del is set). Lets a scan
 * of fresh records skip the version node entirely when the bit is clear.
 */
export const REC_STAMPED = 0x80000000;
export const COUNT_MASK = 0x7fffffff;
export const REC_X = 2;
export const REC_STRIDE = 3;
export const RECORD_BLOCK_WORDS = RB_HEADER + RECORDS_PER_BLOCK * REC_STRIDE;

/** Directory block of a record table: [capacity, unused, blockAddr...]. */
export const DIR_CAPACITY = 0;
export const DIR_HEADER = 2;

/**
 * A version node (5 words): [epoch, prevHead, prevCount, del, prev].
 * A record's x word points at the node of its current version, which began at `epoch` and
 * whose deletion stamps are at `del`. The node also remembers the version it replaced: that
 * version's block and count (prevHead/prevCount) and its node (`prev`, whose epoch says when
 * it began and whose del is its stamps; prev = 0: it began before every retained epoch and has
 * no stamps). So a seal writes one fresh node and never touches an older one.
 */
export const NODE_EPOCH = 0;
export const NODE_PHEAD = 1;
export const NODE_PCOUNT = 2;
export const NODE_DEL = 3;
export const NODE_PREV = 4;
export const NODE_WORDS = 5;

/** Id-index segment header (u32 words) followed by 2-word slots [key32, idWord]. */
export const SEG_SEQ = 0;
export const SEG_SIZE = 1;
export const SEG_COUNT = 2;
export const SEG_HEADER = 4;
/** idWord bit: key32 holds the integer key itself (no verification needed). */
export const ID_EXACT = 0x80000000;
export const ID_LID_MASK = 0x7fffffff;

/** Vertex-core column: [labelId + 1 (0 = absent), createdEpoch, deletedEpoch]. */
export const CORE_LABEL = 0;
export const CORE_CREATED = 1;
export const CORE_DELETED = 2;
export const CORE_WIDTH = 3;

/** Entries per column page (copied on write once per epoch). */
export const PAGE_BITS = 6;
export const PAGE_ITEMS = 1 << PAGE_BITS;
export const PAGE_MASK = PAGE_ITEMS - 1;

export interface StoreLimits {
  /** Id-index segments (power of two). More segments = smaller rehash pauses. */
  indexSegments: number;
  /** Words per arena chunk (power of two, at most 2^28). */
  chunkWords: number;
  /** Maximum arena chunks. */
  maxChunks: number;
  /** Total pool slots (index + keys + direct map + arena + edge-property column chunks). */
  poolSlots: number;
  /** maxByteLength of every pool slot. Must hold chunkWords * 8 bytes (f64 columns). */
  slotMaxBytes: number;
}

export const DEFAULT_LIMITS: StoreLimits = Object.freeze({
  indexSegments: 32,
  chunkWords: 1 << 28,
  maxChunks: 16,
  poolSlots: 160,
  slotMaxBytes: 2 ** 31,
});

export function arenaBase(l: StoreLimits): number {
  return l.indexSegments + 3;
}
export function columnBase(l: StoreLimits): number {
  return arenaBase(l) + l.maxChunks;
}
