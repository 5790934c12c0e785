/**
 * Validating a WAL directory frame by frame (format in wal-format.ts). A WAL file is untrusted
 * input: every length, type and epoch is checked before it is used, and no allocation is ever
 * sized by a length field alone (only by bytes that exist in the file).
 *
 * Damage is classified as one of two things:
 * - a torn tail: the end of the newest segment holds a partial or failed frame (partial header,
 *   partial payload, CRC mismatch, garbage) or BATCH frames without their SEAL, and no intact
 *   frame follows. That is what a crash during a seal's single write leaves behind; that seal
 *   was never acknowledged. Reading stops at the end of the last intact SEAL and reports that
 *   offset so recovery can truncate there.
 * - corruption: anything else, e.g. a bad frame followed by an intact one, a bad frame in an
 *   older segment, a SEAL whose epoch does not increase or whose predecessor is missing. Data
 *   that may have been acknowledged is damaged, so a CorruptionError names the file and offset.
 *
 * A conservative consequence: if a crash persisted a later page of the last (unacknowledged)
 * group but not an earlier one, an intact frame follows the hole and it is reported as
 * corruption. Linux filesystems write back appended pages in order, so this is unlikely; the
 * error names the offset, and truncating the segment there by hand is safe in that case.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';
import { listDir, readFully } from './durable-io.js';
import { CorruptionError } from './storage-error.js';
import {
  CRC_OFFSET,
  CRC_START,
  FORMAT_VERSION,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC_0,
  FRAME_MAGIC_1,
  isRecordType,
  LENGTH_OFFSET,
  MAX_RECORD_BYTES,
  parseSegmentFileName,
  RECORD_TYPES,
  readSealPayload,
  SEAL_PAYLOAD_BYTES,
  type SealMarker,
  TYPE_OFFSET,
  VERSION_OFFSET,
} from './wal-format.js';

/** Where and why the newest segment must be truncated: everything from `offset` on was never committed. */
export interface WalTornTail {
  file: string;
  /** End of the last intact SEAL in the file; truncate the file to this length. */
  offset: number;
  /** File size before truncation. */
  size: number;
  problem: string;
}

/** What a scan learned about one segment file. */
export interface WalSegmentInfo {
  name: string;
  path: string;
  /** Epoch encoded in the file name: the epoch of its first SEAL. */
  nameEpoch: number;
  firstEpoch: number | undefined;
  lastEpoch: number | undefined;
  groups: number;
  /** Bytes up to the end of the last intact SEAL. */
  committedBytes: number;
  size: number;
}

/** Result of validating a whole WAL directory. */
export interface WalScan {
  segments: WalSegmentInfo[];
  /** prevEpoch of the oldest group: the epoch the log continues from. */
  firstPrevEpoch: number | undefined;
  lastEpoch: number | undefined;
  groups: number;
  tail: WalTornTail | null;
}
/** A committed group as raw frames: views into the read window, valid until the next group. */
export interface RawGroup {
  seal: SealMarker;
  window: Buffer;
  /** File offset of window[0]. */
  windowStart: number;
  types: number[];
  /** File offset of each record's payload. */
  payloadOffsets: number[];
  lengths: number[];
  path: string;
}
const INITIAL_WINDOW_BYTES = 4 * 1024 * 1024;
const SCAN_CHUNK_BYTES = 1024 * 1024;
const MAGIC = Buffer.from([FRAME_MAGIC_0, FRAME_MAGIC_1]);

/**
 * A sliding window over one segment. It keeps the bytes of the current group (whose records
 * are only handed out once its SEAL is found) and reads ahead in large chunks. It grows only to
 * hold bytes that exist in the file, so a damaged length field cannot make it allocate more.
 */
class SegmentWindow {
  buf: Buffer;
  start = 0;
  end = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(FRAME_HEADER_BYTES, Math.min(size, INITIAL_WINDOW_BYTES)));
  }

  /** Makes file bytes [from, from + len) available, keeping [keep, from) loaded; false past EOF. */
  async ensure(from: number, len: number, keep: number): Promise<boolean> {
    const need = from + len;
    if (need > this.size) return false;
    if (from >= this.start && need <= this.end) return true;
    const required = need - keep;
    let target = this.buf;
    if (required > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < required) cap *= 2;
      target = Buffer.allocUnsafe(Math.min(cap, this.size - keep));
    }
    const kept = Math.max(0, this.end - keep);
    if (kept > 0) this.buf.copy(target, 0, keep - this.start, this.end - this.start);
    this.buf = target;
    this.start = keep;
    this.end = keep + kept;
    const want = Math.min(this.buf.length - kept, this.size - this.end);
    this.end += await readFully(this.fh, this.buf, kept, want, this.end);
    return need <= this.end;
  }
}

/** Validates the frame header at window offset `o`; returns its payload length or a problem. */
function checkHeader(buf: Buffer, o: number): number | string {
  if (buf[o] !== FRAME_MAGIC_0 || buf[o + 1] !== FRAME_MAGIC_1) return 'bad frame magic';
  const version = buf[o + VERSION_OFFSET];
  if (version !== FORMAT_VERSION) return `unsupported frame version ${version}`;
  const type = buf[o + TYPE_OFFSET];
  if (!isRecordType(type)) return `unknown record type ${type}`;
  const length = buf.readUInt32LE(o + LENGTH_OFFSET);
  if (length > MAX_RECORD_BYTES) return `payload length ${length} exceeds the limit ${MAX_RECORD_BYTES}`;
  if (type === RECORD_TYPES.SEAL && length !== SEAL_PAYLOAD_BYTES) {
    return `SEAL payload length ${length}, expected ${SEAL_PAYLOAD_BYTES}`;
  }
  return length;
}

/** Whether an intact frame (valid header, in bounds, matching CRC) starts at file offset `at`. */
async function intactFrameAt(fh: FileHandle, size: number, at: number, scratch: Buffer): Promise<boolean> {
  if (at + FRAME_HEADER_BYTES > size) return false;
  if ((await readFully(fh, scratch, 0, FRAME_HEADER_BYTES, at)) < FRAME_HEADER_BYTES) return false;
  const length = checkHeader(scratch, 0);
  if (typeof length === 'string' || at + FRAME_HEADER_BYTES + length > size) return false;
  const stored = scratch.readUInt32LE(CRC_OFFSET);
  let crc = crc32c(scratch.subarray(CRC_START, FRAME_HEADER_BYTES));
  let pos = at + FRAME_HEADER_BYTES;
  const end = pos + length;
  while (pos < end) {
    const n = await readFully(fh, scratch, 0, Math.min(scratch.length, end - pos), pos);
    if (n === 0) return false;
    crc = crc32c(scratch.subarray(0, n), crc);
    pos += n;
  }
  return crc === stored;
}

/** File offset of the first intact frame at or after `from`, or -1. Reads in bounded chunks. */
async function findIntactFrame(fh: FileHandle, size: number, from: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES + 1);
  const scratch = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
  for (let base = from; base < size - 1; base += SCAN_CHUNK_BYTES) {
    // One extra byte so a magic pair straddling two chunks is still seen.
    const n = await readFully(fh, chunk, 0, Math.min(chunk.length, size - base), base);
    let i = chunk.subarray(0, n).indexOf(MAGIC);
    while (i !== -1 && i < SCAN_CHUNK_BYTES) {
      if (await intactFrameAt(fh, size, base + i, scratch)) return base + i;
      i = chunk.subarray(0, n).indexOf(MAGIC, i + 1);
    }
  }
  return -1;
}

interface SegmentEntry {
  name: string;
  path: string;
  nameEpoch: number;
  size: number;
}

async function listSegments(dir: string): Promise<SegmentEntry[]> {
  const out: SegmentEntry[] = [];
  for (const name of await listDir(dir)) {
    const nameEpoch = parseSegmentFileName(name);
    if (nameEpoch === undefined) continue;
    const path = join(dir, name);
    const st = await stat(path);
    if (!st.isFile())
      throw new CorruptionError(path, undefined, 'a WAL segment name that is not a regular file');
    out.push({ name, path, nameEpoch, size: st.size });
  }
  // Fixed-width names sort in epoch order.
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Walks every frame of every segment, yielding committed groups; returns the scan summary.
 * Throws CorruptionError for anything that is not a torn tail.
 */
export async function* scanGroups(dir: string): AsyncGenerator<RawGroup, WalScan> {
  const entries = await listSegments(dir);
  const segments: WalSegmentInfo[] = [];
  let lastEpoch: number | undefined;
  let firstPrevEpoch: number | undefined;
  let groups = 0;
  let tail: WalTornTail | null = null;
  const types: number[] = [];
  const payloadOffsets: number[] = [];
  const lengths: number[] = [];

  for (let si = 0; si < entries.length && tail === null; si++) {
    const entry = entries[si];
    const info: WalSegmentInfo = {
      name: entry.name,
      path: entry.path,
      nameEpoch: entry.nameEpoch,
      firstEpoch: undefined,
      lastEpoch: undefined,
      groups: 0,
      committedBytes: 0,
      size: entry.size,
    };
    segments.push(info);
    if (entry.size === 0) continue;
    const laterData = entries.slice(si + 1).some((e) => e.size > 0);
    const fh = await open(entry.path, 'r');
    try {
      const win = new SegmentWindow(fh, entry.size);
      let pos = 0;
      let groupStart = 0;
      types.length = payloadOffsets.length = lengths.length = 0;

      // A frame that fails validation: torn tail if nothing intact follows, else corruption.
      // `searchFrom` is where an intact frame would prove the damage is not at the tail.
      const damaged = async (at: number, problem: string, searchFrom = at + 1): Promise<WalTornTail> => {
        if (laterData) {
          throw new CorruptionError(
            entry.path,
            at,
            `${problem}; newer segments hold data, so it is not a torn tail`,
          );
        }
        const next = await findIntactFrame(fh, entry.size, searchFrom);
        if (next !== -1) {
          throw new CorruptionError(
            entry.path,
            at,
            `${problem}; an intact frame follows at byte ${next}, so it is not a torn tail`,
          );
        }
        return {
          file: entry.path,
          offset: groupStart,
          size: entry.size,
          problem: `${problem} at byte ${at}`,
        };
      };

      while (pos < entry.size) {
        if (!(await win.ensure(pos, FRAME_HEADER_BYTES, groupStart))) {
          tail = await damaged(pos, `partial frame header (${entry.size - pos} bytes)`);
          break;
        }
        let o = pos - win.start;
        const length = checkHeader(win.buf, o);
        if (typeof length === 'string') {
          tail = await damaged(pos, length);
          break;
        }
        const frameBytes = FRAME_HEADER_BYTES + length;
        if (!(await win.ensure(pos, frameBytes, groupStart))) {
          tail = await damaged(
            pos,
            `partial frame: ${frameBytes} bytes announced, ${entry.size - pos} in file`,
          );
          break;
        }
        o = pos - win.start;
        const stored = win.buf.readUInt32LE(o + CRC_OFFSET);
        const actual = crc32c(win.buf.subarray(o + CRC_START, o + frameBytes));
        if (stored !== actual) {
          const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
          tail = await damaged(pos, `CRC mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
          break;
        }
        const type = win.buf[o + TYPE_OFFSET];
        if (type !== RECORD_TYPES.SEAL) {
          types.push(type);
          payloadOffsets.push(pos + FRAME_HEADER_BYTES);
          lengths.push(length);
          pos += frameBytes;
          continue;
        }
        const seal = readSealPayload(win.buf, o + FRAME_HEADER_BYTES);
        if (typeof seal === 'string') throw new CorruptionError(entry.path, pos, seal);
        if (seal.recordCount !== types.length) {
          throw new CorruptionError(
            entry.path,
            pos,
            `SEAL of epoch ${seal.epoch} counts ${seal.recordCount} records but its group has ${types.length}`,
          );
        }
        if (info.firstEpoch === undefined && seal.epoch !== entry.nameEpoch) {
          throw new CorruptionError(
            entry.path,
            pos,
            `first SEAL is epoch ${seal.epoch} but the segment name says ${entry.nameEpoch}`,
          );
        }
        if (lastEpoch !== undefined && seal.epoch <= lastEpoch) {
          throw new CorruptionError(
            entry.path,
            pos,
            `SEAL epoch ${seal.epoch} does not increase (previous SEAL was epoch ${lastEpoch})`,
          );
        }
        if (lastEpoch !== undefined && seal.prevEpoch !== lastEpoch) {
          throw new CorruptionError(
            entry.path,
            pos,
            `SEAL of epoch ${seal.epoch} follows epoch ${seal.prevEpoch}, but the previous SEAL in the log is epoch ${lastEpoch}: a group is missing`,
          );
        }
        if (firstPrevEpoch === undefined) firstPrevEpoch = seal.prevEpoch;
        lastEpoch = seal.epoch;
        info.firstEpoch ??= seal.epoch;
        info.lastEpoch = seal.epoch;
        info.groups++;
        groups++;
        pos += frameBytes;
        info.committedBytes = pos;
        // The window still holds the whole group: it never drops bytes after groupStart.
        yield {
          seal,
          window: win.buf,
          windowStart: win.start,
          types,
          payloadOffsets,
          lengths,
          path: entry.path,
        };
        groupStart = pos;
        types.length = payloadOffsets.length = lengths.length = 0;
      }
      if (tail === null && types.length > 0) {
        // Every frame up to EOF parsed, so nothing intact can follow: search from EOF.
        tail = await damaged(groupStart, `${types.length} BATCH frames without their SEAL`, entry.size);
      }
    } finally {
      await fh.close();
    }
  }
  // Segments after a torn tail can only be empty (anything else was reported as corruption).
  for (const entry of entries.slice(segments.length)) {
    segments.push({
      name: entry.name,
      path: entry.path,
      nameEpoch: entry.nameEpoch,
      firstEpoch: undefined,
      lastEpoch: undefined,
      groups: 0,
      committedBytes: 0,
      size: entry.size,
    });
  }
  return { segments, firstPrevEpoch, lastEpoch, groups, tail };
}

/**
 * Validates a whole WAL directory without decoding records: the segments, the last committed
 * epoch and the torn tail to cut, if any. Throws CorruptionError on corruption.
 */
export async function scanWal(dir: string): Promise<WalScan> {
  const it = scanGroups(dir);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
