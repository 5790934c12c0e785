/**
 * Reading the committed groups of a WAL directory, for recovery: validation is done by the
 * scan (wal-scan.ts); this decodes the records of the groups after a base epoch and checks
 * that the log continues from that epoch without a gap.
 */
import { Unpackr } from 'msgpackr';
import { CorruptionError } from './storage-error.js';
import { FRAME_HEADER_BYTES, MSGPACK_OPTIONS, RECORD_TYPES } from './wal-format.js';
import { type RawGroup, scanGroups, type WalScan, type WalTornTail } from './wal-scan.js';

/** One committed group: the records of one sealed epoch, in append order. */
export interface WalGroup {
  epoch: number;
  /** The previous sealed epoch in the log (0 if none). */
  prevEpoch: number;
  sealedAtMs: number;
  /** Values appended with `append` (decoded) and Uint8Array copies of those appended with `appendBytes`. */
  records: unknown[];
}
const unpackr = new Unpackr({ ...MSGPACK_OPTIONS, copyBuffers: true });
function decodeGroup(raw: RawGroup): WalGroup {
  const records: unknown[] = new Array(raw.types.length);
  for (let i = 0; i < raw.types.length; i++) {
    const start = raw.payloadOffsets[i] - raw.windowStart;
    const payload = raw.window.subarray(start, start + raw.lengths[i]);
    if (raw.types[i] === RECORD_TYPES.BATCH_BYTES) {
      records[i] = new Uint8Array(payload);
      continue;
    }
    try {
      records[i] = unpackr.unpack(payload);
    } catch (err) {
      // The CRC matched, so these are the bytes the writer wrote: not a torn write.
      throw new CorruptionError(
        raw.path,
        raw.payloadOffsets[i] - FRAME_HEADER_BYTES,
        `record of epoch ${raw.seal.epoch} is not valid msgpack: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return { epoch: raw.seal.epoch, prevEpoch: raw.seal.prevEpoch, sealedAtMs: raw.seal.sealedAtMs, records };
}

/** Options of `readWal`. */
export interface ReadWalOptions {
  /** Yield only groups with a greater epoch, e.g. the epoch of the checkpoint being replayed onto. */
  afterEpoch?: number;
}

/**
 * Committed groups of a WAL directory, in log order. Read-only: a torn tail ends the
 * iteration and is reported in `tail`; `openWal` is what truncates it. Iterate it once.
 */
export class WalReader implements AsyncIterable<WalGroup> {
  private summary: WalScan | undefined;
  constructor(
    readonly dir: string,
    readonly afterEpoch: number,
  ) {}

  /** The scan summary, available once iteration has finished. */
  get scan(): WalScan {
    if (!this.summary) throw new Error('WalReader.scan is available only after iterating to the end');
    return this.summary;
  }

  /** The torn tail found at the end of the log, once iteration has finished. */
  get tail(): WalTornTail | null {
    return this.scan.tail;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WalGroup> {
    const it = scanGroups(this.dir);
    let checkedContinuity = false;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) {
          this.summary = r.value;
          return;
        }
        const raw = r.value;
        if (raw.seal.epoch <= this.afterEpoch) continue;
        if (!checkedContinuity) {
          checkedContinuity = true;
          // The first group after the base epoch must follow it directly; otherwise sealed
          // epochs between them are gone (a deleted segment, or truncation past the checkpoint).
          if (raw.seal.prevEpoch > this.afterEpoch) {
            throw new CorruptionError(
              this.dir,
              undefined,
              `the WAL cannot continue from epoch ${this.afterEpoch}: its first later group is epoch ${raw.seal.epoch}, whose predecessor ${raw.seal.prevEpoch} is not in the log`,
            );
          }
        }
        yield decodeGroup(raw);
      }
    } finally {
      await it.return(undefined as unknown as WalScan);
    }
  }
}

/** Reads the committed groups of a WAL directory with epoch > `afterEpoch` (default 0). */
export function readWal(dir: string, options: ReadWalOptions = {}): WalReader {
  const afterEpoch = options.afterEpoch ?? 0;
  if (!Number.isSafeInteger(afterEpoch) || afterEpoch < 0) {
    throw new RangeError(`afterEpoch must be a non-negative safe integer, got ${afterEpoch}`);
  }
  return new WalReader(dir, afterEpoch);
}
