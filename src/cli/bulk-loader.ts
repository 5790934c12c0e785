/**
 * The bulk loader behind `epochgraph load`: parse files chunk by chunk (src/formats), turn
 * each chunk into one atomic batch (chunk-batch.ts) and submit it with a few batches in
 * flight, so parsing, encoding, the network and the server's apply overlap.
 *
 * Atomicity, exactly. Each batch holds whole lines and is applied whole in one epoch, or not
 * at all. A bad line is found by the parser before the batch that would hold it exists, so
 * that batch, and everything after it, is never sent; the batches already sent are awaited,
 * and the error says which line ranges were acknowledged. A batch the server refuses applies
 * nothing; batches already in flight after it may still be applied, and the error lists them.
 *
 * Progress is counted in bytes of input whose batches are acknowledged, in file order.
 */
import { createReadStream } from 'node:fs';
import type { BatchAck, EpochgraphClient } from '../client/index.js';
import { ConnectionError } from '../client/index.js';
import { EpochgraphError } from '../errors.js';
import { type GraphFileFormat, readGraphFile } from '../formats/index.js';
import { type ChunkBatchOptions, chunkToBatch } from './chunk-batch.js';

export interface LoadFile {
  path: string;
  format: GraphFileFormat;
  /** Size in bytes (for progress). */
  bytes: number;
}

export interface LoadOptions extends ChunkBatchOptions {
  /** Edges (or vertices) per batch. */
  batchEdges: number;
  /** Batches sent before the first is acknowledged. */
  inFlight: number;
  idType: 'auto' | 'string';
  /** CSV delimiter. */
  delimiter?: string;
  onProgress?: (p: LoadProgress) => void;
}

export interface LoadProgress {
  /** Bytes of input whose batches are all acknowledged (in file order). */
  bytesDone: number;
  bytesTotal: number;
  /** Input edges and vertices acknowledged so far (any order). */
  edges: number;
  vertices: number;
  /** The newest acknowledged epoch. */
  epoch: number;
  elapsedMs: number;
}

export interface LoadResult {
  /** The epoch that holds every batch (the newest acknowledgement). */
  epoch: number;
  edges: number;
  vertices: number;
  batches: number;
  files: number;
  bytes: number;
  seconds: number;
}

interface Entry {
  file: string;
  firstLine: number;
  lastLine: number;
  /** Offset of the end of this chunk's input, counted over all files. */
  bytesEnd: number;
  edges: number;
  vertices: number;
  state: 'flight' | 'done' | 'failed';
}

/** A load that stopped: the cause, and what was and was not applied. */
export class LoadError extends Error {
  constructor(
    message: string,
    /** Lines that say what was applied, refused, unknown and not sent. */
    readonly report: readonly string[],
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'LoadError';
  }
}

/** Count the bytes that pass through. */
async function* counting(path: string, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) {
    counter.bytes += (piece as Buffer).length;
    yield piece as Buffer;
  }
}

/** Line ranges of entries in a state, merged per file where no other entry lies between. */
function ranges(entries: readonly Entry[], state: Entry['state']): string[] {
  const out: string[] = [];
  let cur: { file: string; first: number; last: number } | null = null;
  const flush = () => {
    if (cur !== null) out.push(`${cur.file} lines ${cur.first}-${cur.last}`);
    cur = null;
  };
  for (const e of entries) {
    if (e.state !== state) {
      flush();
      continue;
    }
    if (cur !== null && cur.file === e.file) cur.last = e.lastLine;
    else {
      flush();
      cur = { file: e.file, first: e.firstLine, last: e.lastLine };
    }
  }
  flush();
  return out;
}

function describe(err: unknown): string {
  if (err instanceof EpochgraphError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Load files in order; resolves with the final epoch, or rejects with a LoadError. */
export async function loadFiles(
  client: EpochgraphClient,
  files: readonly LoadFile[],
  opts: LoadOptions,
): Promise<LoadResult> {
  const started = performance.now();
  const bytesTotal = files.reduce((s, f) => s + f.bytes, 0);
  const entries: Entry[] = [];
  const inFlight = new Set<Promise<void>>();
  let doneUpTo = 0; // entries[0 .. doneUpTo) are acknowledged
  let bytesDone = 0;
  let edges = 0;
  let vertices = 0;
  let epoch = 0;
  let refused: { entry: Entry; error: unknown } | null = null;
  let parseFailure: { file: string; nextLine: number; error: unknown } | null = null;
  let bytesBefore = 0;

  const progress = () =>
    opts.onProgress?.({
      bytesDone,
      bytesTotal,
      edges,
      vertices,
      epoch,
      elapsedMs: performance.now() - started,
    });

  const onAck = (entry: Entry, ack: BatchAck) => {
    entry.state = 'done';
    epoch = Math.max(epoch, ack.epoch);
    edges += entry.edges;
    vertices += entry.vertices;
    while (doneUpTo < entries.length && entries[doneUpTo].state === 'done') {
      bytesDone = entries[doneUpTo].bytesEnd;
      doneUpTo++;
    }
    progress();
  };

  reading: for (const f of files) {
    const counter = { bytes: 0 };
    let nextLine = 1;
    try {
      const chunks = readGraphFile(counting(f.path, counter), f.format, {
        name: f.path,
        chunkSize: opts.batchEdges,
        idType: opts.idType,
        delimiter: opts.delimiter,
      });
      for await (const chunk of chunks) {
        const { batch, edges: e, vertices: v } = chunkToBatch(chunk, opts);
        const entry: Entry = {
          file: f.path,
          firstLine: chunk.firstLine,
          lastLine: chunk.lastLine,
          bytesEnd: bytesBefore + counter.bytes,
          edges: e,
          vertices: v,
          state: 'flight',
        };
        nextLine = chunk.lastLine + 1;
        while (inFlight.size >= opts.inFlight) await Promise.race(inFlight);
        if (refused !== null) break reading;
        entries.push(entry);
        const p: Promise<void> = client.submitBatch(batch).then(
          (ack) => onAck(entry, ack),
          (error: unknown) => {
            entry.state = 'failed';
            refused ??= { entry, error };
          },
        );
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
    } catch (error) {
      parseFailure = { file: f.path, nextLine, error };
      break;
    }
    bytesBefore += f.bytes;
  }
  await Promise.all(inFlight);

  if (parseFailure === null && refused === null) {
    if (entries.length === 0) epoch = (await client.epochs()).latest;
    bytesDone = bytesTotal;
    progress();
    return {
      epoch,
      edges,
      vertices,
      batches: entries.length,
      files: files.length,
      bytes: bytesTotal,
      seconds: (performance.now() - started) / 1000,
    };
  }

  const report: string[] = [];
  const applied = ranges(entries, 'done');
  report.push(
    applied.length === 0
      ? 'applied: nothing'
      : `applied (acknowledged, readable at epoch ${epoch}): ${applied.join('; ')}`,
  );
  let message: string;
  let cause: unknown;
  const r = refused as { entry: Entry; error: unknown } | null;
  if (r !== null) {
    cause = r.error;
    const lost = r.error instanceof ConnectionError && r.error.mayHaveBeenApplied;
    message = `${r.entry.file} lines ${r.entry.firstLine}-${r.entry.lastLine}: ${lost ? 'no answer' : 'the server refused the batch'}: ${describe(r.error)}`;
    const failed = ranges(entries, 'failed');
    report.push(
      lost
        ? `unknown (sent, answer lost; may or may not be applied): ${failed.join('; ')}`
        : `refused (nothing of them applied): ${failed.join('; ')}`,
    );
    report.push('not sent: every line after the last batch listed above, and the files after it');
  } else {
    const pf = parseFailure as { file: string; nextLine: number; error: unknown };
    cause = pf.error;
    message = describe(pf.error).replace(/^INVALID_REQUEST: /, '');
    report.push(
      `not sent: ${pf.file} from line ${pf.nextLine} on (the batch holding the bad line)` +
        (files[files.length - 1]?.path === pf.file ? '' : ', and the files after it'),
    );
  }
  throw new LoadError(message, report, cause);
}
