/**
 * Shared fixtures of the WAL and checkpoint tests: real temp directories, and an `openFile`
 * wrapper that counts fsyncs on real file handles and can inject device errors.
 */
import { cp, type FileHandle, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { OpenFile } from '../../partitions/index.js';
import { readWal, type WalGroup } from '../../partitions/index.js';

const created: string[] = [];

/** A fresh temp directory, removed after the current test. */
export async function tempDir(prefix = 'epochgraph-wal-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Copies a directory tree into a new temp directory. */
export async function copyDir(src: string): Promise<string> {
  const dst = await tempDir('epochgraph-copy-');
  await cp(src, dst, { recursive: true });
  return dst;
}

export type IoOp = 'write' | 'datasync' | 'sync' | 'open';

/** Counts I/O calls on real handles, per path, and fails calls a predicate picks. */
export class IoProbe {
  readonly datasyncs = new Map<string, number>();
  readonly syncs = new Map<string, number>();
  readonly datasyncMs: number[] = [];
  /** Return an error to make that call fail instead of reaching the file system. */
  fail: (path: string, op: IoOp) => Error | undefined = () => undefined;

  readonly openFile: OpenFile = async (path, flags) => {
    const injected = this.fail(path, 'open');
    if (injected) throw injected;
    const fh = await open(path, flags);
    return this.wrap(path, fh);
  };

  count(map: Map<string, number>, predicate: (path: string) => boolean): number {
    let n = 0;
    for (const [path, c] of map) if (predicate(path)) n += c;
    return n;
  }

  reset(): void {
    this.datasyncs.clear();
    this.syncs.clear();
    this.datasyncMs.length = 0;
  }

  private wrap(path: string, fh: FileHandle): FileHandle {
    const probe = this;
    return new Proxy(fh, {
      get(target, key) {
        if (key === 'datasync' || key === 'sync' || key === 'write') {
          return async (...args: unknown[]) => {
            const injected = probe.fail(path, key);
            if (injected) throw injected;
            if (key === 'write') return (target.write as (...a: unknown[]) => unknown)(...args);
            const map = key === 'datasync' ? probe.datasyncs : probe.syncs;
            map.set(path, (map.get(path) ?? 0) + 1);
            const t0 = performance.now();
            const r = key === 'datasync' ? await target.datasync() : await target.sync();
            if (key === 'datasync') probe.datasyncMs.push(performance.now() - t0);
            return r;
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}

/** An errno-style error, as the kernel would report it. */
export function ioError(code: string): Error {
  return Object.assign(new Error(`${code}: injected I/O error`), { code });
}

/** Reads every committed group of a WAL directory, plus the reader (for its tail). */
export async function readAll(dir: string, afterEpoch = 0): Promise<{ groups: WalGroup[]; tail: unknown }> {
  const reader = readWal(dir, { afterEpoch });
  const groups: WalGroup[] = [];
  for await (const g of reader) groups.push(g);
  return { groups, tail: reader.tail };
}

/** Segment file names of a WAL directory, sorted. */
export async function segmentNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('wal-') && n.endsWith('.log')).sort();
}

/** Whether two directories hold the same WAL segments, byte for byte. */
export async function sameSegments(a: string, b: string): Promise<boolean> {
  const [na, nb] = [await segmentNames(a), await segmentNames(b)];
  if (na.join() !== nb.join()) return false;
  for (const name of na) {
    if (!(await readFile(join(a, name))).equals(await readFile(join(b, name)))) return false;
  }
  return true;
}

/** A columnar batch of `edges` edges, shaped like the API's bulk form. */
export function columnarBatch(
  seed: number,
  edges: number,
): { edges: { src: Float64Array; dst: Float64Array; label: string; props: { weight: Float64Array } } } {
  const src = new Float64Array(edges);
  const dst = new Float64Array(edges);
  const weight = new Float64Array(edges);
  for (let i = 0; i < edges; i++) {
    src[i] = (seed * 7919 + i) % 1_000_003;
    dst[i] = (seed * 104729 + i * 31) % 1_000_003;
    weight[i] = (i % 97) / 7;
  }
  return { edges: { src, dst, label: 'edge', props: { weight } } };
}
