import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crc32c } from '../../partitions/crc32c.js';
import { CorruptionError, openWal, scanWal } from '../../partitions/index.js';
import {
  CRC_OFFSET,
  CRC_START,
  FRAME_HEADER_BYTES,
  LENGTH_OFFSET,
  RECORD_TYPES,
  SEAL_PAYLOAD_BYTES,
  TYPE_OFFSET,
  VERSION_OFFSET,
  writeFrameHeader,
  writeSealPayload,
} from '../../partitions/wal-format.js';
import { readAll, segmentNames, tempDir } from './wal-fixtures.js';

/** A frame with a correct CRC over whatever header fields and payload it is given. */
function frame(type: number, payload: Uint8Array, patch?: (header: Buffer) => void): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(buf, 0, RECORD_TYPES.BATCH_BYTES, payload.length);
  buf[TYPE_OFFSET] = type;
  buf.set(payload, FRAME_HEADER_BYTES);
  patch?.(buf);
  buf.writeUInt32LE(crc32c(buf.subarray(CRC_START)), CRC_OFFSET);
  return buf;
}

function sealFrame(epoch: number, prevEpoch: number, recordCount: number): Buffer {
  const payload = Buffer.alloc(SEAL_PAYLOAD_BYTES);
  writeSealPayload(payload, 0, { epoch, prevEpoch, sealedAtMs: 1, recordCount });
  return frame(RECORD_TYPES.SEAL, payload);
}

/** Offsets of the frames in a segment (walking the length fields of a healthy file). */
function frameOffsets(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o < bytes.length; o += FRAME_HEADER_BYTES + bytes.readUInt32LE(o + LENGTH_OFFSET))
    out.push(o);
  return out;
}

/** A healthy WAL of 3+ segments, one record and one SEAL per group. */
async function healthyWal(): Promise<{ dir: string; names: string[] }> {
  const dir = await tempDir();
  const wal = await openWal({ dir, segmentBytes: 4096 });
  for (let e = 1; e <= 40; e++) {
    wal.append({ e, pad: 'p'.repeat(300) });
    await wal.seal(e, e);
  }
  await wal.close();
  const names = await segmentNames(dir);
  expect(names.length).toBeGreaterThanOrEqual(3);
  return { dir, names };
}

async function expectCorruption(dir: string, file: string, offset: number | undefined, message: RegExp) {
  const before = await Promise.all((await segmentNames(dir)).map((n) => readFile(join(dir, n))));
  const err = await readAll(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.file).toBe(file);
  expect(c.offset).toBe(offset);
  expect(c.message).toContain(file);
  if (offset !== undefined) expect(c.message).toContain(`at byte ${offset}`);
  expect(c.message).toMatch(message);
  expect(c.code).toBe('INTERNAL');
  expect(c.toData().details).toMatchObject({ reason: 'DATA_CORRUPT', file, offset });
  // Opening for write refuses too, and repairs nothing.
  await expect(openWal({ dir })).rejects.toBeInstanceOf(CorruptionError);
  const after = await Promise.all((await segmentNames(dir)).map((n) => readFile(join(dir, n))));
  expect(after).toEqual(before);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WAL corruption is reported, never dropped', () => {
  it('a flipped byte in an early frame names the file and the frame offset', async () => {
    const { dir, names } = await healthyWal();
    const file = join(dir, names[0]);
    const bytes = await readFile(file);
    const second = frameOffsets(bytes)[2]; // the second group's BATCH frame
    bytes[second + FRAME_HEADER_BYTES + 5] ^= 0x01;
    await writeFile(file, bytes);
    await expectCorruption(dir, file, second, /CRC mismatch.*newer segments hold data/);
  });

  it('a bad frame in the newest segment followed by intact frames is corruption, not a torn tail', async () => {
    const { dir, names } = await healthyWal();
    const file = join(dir, names.at(-1) as string);
    const bytes = await readFile(file);
    const offsets = frameOffsets(bytes);
    expect(offsets.length).toBeGreaterThanOrEqual(4);
    const target = offsets[offsets.length - 4];
    bytes[target + FRAME_HEADER_BYTES + 1] ^= 0xff;
    await writeFile(file, bytes);
    await expectCorruption(
      dir,
      file,
      target,
      new RegExp(`an intact frame follows at byte ${offsets.at(-3)}`),
    );
  });

  it('a missing middle segment breaks the epoch chain', async () => {
    const { dir, names } = await healthyWal();
    await rm(join(dir, names[1]));
    const next = join(dir, names[2]);
    const firstSeal = frameOffsets(await readFile(next))[1];
    await expectCorruption(
      dir,
      next,
      firstSeal,
      /follows epoch \d+, but the previous SEAL in the log is epoch \d+: a group is missing/,
    );
  });

  it('a renamed segment no longer matches its first SEAL', async () => {
    const { dir, names } = await healthyWal();
    const renamed = names[1].replace(/\d{20}/, (d) => String(Number(d) - 1).padStart(20, '0'));
    expect(renamed).not.toBe(names[1]);
    await rename(join(dir, names[1]), join(dir, renamed));
    const firstSeal = frameOffsets(await readFile(join(dir, renamed)))[1];
    await expectCorruption(dir, join(dir, renamed), firstSeal, /segment name says/);
  });

  it('a directory with a segment name is rejected', async () => {
    const { dir } = await healthyWal();
    const bogus = join(dir, 'wal-00000000000000000099.log');
    await mkdir(bogus);
    await expect(scanWal(dir)).rejects.toThrow(/not a regular file/);
  });
});

describe('WAL frames are validated as untrusted input', () => {
  /** Inserts `inserted` after the first group of the first segment (intact frames follow). */
  async function insertEarly(inserted: Buffer): Promise<{ dir: string; file: string; at: number }> {
    const { dir, names } = await healthyWal();
    const file = join(dir, names[0]);
    const bytes = await readFile(file);
    const at = frameOffsets(bytes)[2];
    await writeFile(file, Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]));
    return { dir, file, at };
  }

  it('an unknown record type with a valid CRC', async () => {
    const { dir, file, at } = await insertEarly(frame(9, Buffer.from('hello')));
    await expectCorruption(dir, file, at, /unknown record type 9/);
  });

  it('an unsupported format version', async () => {
    const bad = frame(RECORD_TYPES.BATCH_BYTES, Buffer.from('x'), (h) => {
      h[VERSION_OFFSET] = 2;
    });
    const { dir, file, at } = await insertEarly(bad);
    await expectCorruption(dir, file, at, /unsupported frame version 2/);
  });

  it('a SEAL with the wrong payload length', async () => {
    const { dir, file, at } = await insertEarly(frame(RECORD_TYPES.SEAL, Buffer.alloc(20)));
    await expectCorruption(dir, file, at, /SEAL payload length 20, expected 28/);
  });

  it('a header claiming a 4 GiB payload fails without allocating it', async () => {
    const header = frame(RECORD_TYPES.BATCH_BYTES, Buffer.alloc(0), (h) =>
      h.writeUInt32LE(0xffffffff, LENGTH_OFFSET),
    );
    const allocs: number[] = [];
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    spy.mockImplementation(((size: number) => {
      allocs.push(size);
      return Buffer.allocUnsafeSlow(size);
    }) as typeof Buffer.allocUnsafe);
    const { dir, file, at } = await insertEarly(header);
    allocs.length = 0;
    await expectCorruption(dir, file, at, /payload length 4294967295 exceeds the limit/);
    expect(allocs.length).toBeGreaterThan(0);
    expect(Math.max(...allocs)).toBeLessThanOrEqual(4 * 1024 * 1024 + 1);
  });

  it('a header claiming 200 MiB in a small file is a partial frame, with no 200 MiB allocation', async () => {
    const claimed = 200 * 1024 * 1024;
    const header = frame(RECORD_TYPES.BATCH_BYTES, Buffer.alloc(0), (h) =>
      h.writeUInt32LE(claimed, LENGTH_OFFSET),
    );
    const allocs: number[] = [];
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation(((size: number) => {
      allocs.push(size);
      return Buffer.allocUnsafeSlow(size);
    }) as typeof Buffer.allocUnsafe);
    // In the middle: intact frames follow, so it is corruption.
    const { dir, file, at } = await insertEarly(header);
    allocs.length = 0;
    await expectCorruption(
      dir,
      file,
      at,
      new RegExp(`partial frame: ${claimed + FRAME_HEADER_BYTES} bytes announced`),
    );
    expect(allocs.length).toBeGreaterThan(0);
    expect(Math.max(...allocs)).toBeLessThanOrEqual(4 * 1024 * 1024 + 1);

    // At the very end of the log it is a torn tail: cut, and all epochs kept.
    const tailDir = await tempDir();
    const wal = await openWal({ dir: tailDir });
    wal.append('x');
    await wal.seal(1, 1);
    await wal.close();
    const seg = join(tailDir, (await segmentNames(tailDir))[0]);
    const good = await readFile(seg);
    await writeFile(seg, Buffer.concat([good, header, Buffer.alloc(1000)]));
    allocs.length = 0;
    const { groups, tail } = await readAll(tailDir);
    expect(groups.map((g) => g.epoch)).toEqual([1]);
    expect(tail).toMatchObject({ offset: good.length });
    expect(allocs.length).toBeGreaterThan(0);
    expect(Math.max(...allocs)).toBeLessThanOrEqual(4 * 1024 * 1024 + 1);
  });

  it('a SEAL whose epoch does not increase', async () => {
    const { dir, names } = await healthyWal();
    const file = join(dir, names.at(-1) as string);
    const bytes = await readFile(file);
    // Epoch 40 again, naming 40 as its predecessor: CRC-valid, so not a torn write.
    await writeFile(file, Buffer.concat([bytes, sealFrame(40, 39, 0)]));
    await expectCorruption(dir, file, bytes.length, /SEAL previous epoch 39|does not increase/);
    await writeFile(file, Buffer.concat([bytes, sealFrame(39, 38, 0)]));
    await expectCorruption(
      dir,
      file,
      bytes.length,
      /SEAL epoch 39 does not increase \(previous SEAL was epoch 40\)/,
    );
  });

  it('a SEAL whose record count does not match its group', async () => {
    const { dir, names } = await healthyWal();
    const file = join(dir, names.at(-1) as string);
    const bytes = await readFile(file);
    const record = frame(RECORD_TYPES.BATCH_BYTES, Buffer.from('r'));
    await writeFile(file, Buffer.concat([bytes, record, sealFrame(41, 40, 2)]));
    await expectCorruption(dir, file, bytes.length + record.length, /counts 2 records but its group has 1/);
  });

  it('a SEAL epoch beyond the safe integer range', async () => {
    const { dir, names } = await healthyWal();
    const file = join(dir, names.at(-1) as string);
    const bytes = await readFile(file);
    const seal = frame(RECORD_TYPES.SEAL, Buffer.alloc(SEAL_PAYLOAD_BYTES, 0xff));
    await writeFile(file, Buffer.concat([bytes, seal]));
    await expectCorruption(dir, file, bytes.length, /not a safe integer/);
  });

  it('a CRC-valid record that is not msgpack fails the read with its offset', async () => {
    const { dir, names } = await healthyWal();
    const file = join(dir, names.at(-1) as string);
    const bytes = await readFile(file);
    const record = frame(RECORD_TYPES.BATCH_MSGPACK, Buffer.from([0x92, 0x01])); // a 2-array with 1 item
    await writeFile(file, Buffer.concat([bytes, record, sealFrame(41, 40, 1)]));
    // Framing is intact (scanWal does not decode records) ...
    expect((await scanWal(dir)).lastEpoch).toBe(41);
    // ... but the record is unusable, and the reader says where it is.
    await expect(readAll(dir)).rejects.toThrow(
      new RegExp(`${file} at byte ${bytes.length}: record of epoch 41 is not valid msgpack`),
    );
  });
});
