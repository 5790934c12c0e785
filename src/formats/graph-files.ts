/**
 * Streaming parsers for graph files: the Graphalytics adjacency format, `.v` vertex files,
 * edge lists (`.e` and plain), and CSV with a header.
 *
 * Every parser is an async generator of columnar chunks. It reads the input piece by piece,
 * cuts lines itself and parses each line in place (digits are read straight from the text;
 * only string ids and CSV fields become substrings), and yields a chunk each time `chunkSize`
 * edges (or vertices) have accumulated. Memory is bounded by one chunk plus one read piece,
 * whatever the file size; the consumer's pace drives the reading.
 *
 * Ids. A token of decimal digits only is an integer id, and must be a safe integer (an error
 * otherwise); anything else is a string id of at most 256 UTF-8 bytes. `idType: 'string'`
 * makes every id a string, as `?idType=string` does in the API. In CSV, quoting is syntax
 * and does not change an id's type. A chunk's id column is a Float64Array when all its ids
 * are integers, and an array of numbers and strings otherwise.
 *
 * Errors. A bad line throws EpochgraphError INVALID_REQUEST with the message
 * `<file>:<line>: <reason>` and details `{ file, line, reason }`.
 *
 * This file reads the input and cuts lines; the per-format line parsers are in line-sinks.ts
 * and csv-sink.ts, the types and constants in graph-file-types.ts (re-exported here).
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EpochgraphError } from '../errors.js';
import { CsvSink } from './csv-sink.js';
import type {
  CsvOptions,
  GraphChunk,
  GraphFileFormat,
  GraphFileOptions,
  GraphInput,
} from './graph-file-types.js';
import { AdjacencySink, CH_CR, chunkSizeOf, EdgeListSink, type LineSink, VertexSink } from './line-sinks.js';

export * from './graph-file-types.js';

/** The format a file name suggests: `.v` vertices, `.csv` CSV, anything else an edge list. */
export function formatFromPath(path: string): GraphFileFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.v')) return 'vertices';
  if (lower.endsWith('.csv')) return 'csv';
  return 'edgelist';
}

/** Parse a file of the given format; see the per-format readers. */
export function readGraphFile(
  input: GraphInput,
  format: GraphFileFormat,
  options: CsvOptions = {},
): AsyncGenerator<GraphChunk> {
  switch (format) {
    case 'adjacency':
      return readAdjacency(input, options);
    case 'vertices':
      return readVertexFile(input, options);
    case 'edgelist':
      return readEdgeList(input, options);
    case 'csv':
      return readCsv(input, options);
    default:
      throw new EpochgraphError('INVALID_REQUEST', `unknown graph file format ${String(format)}`);
  }
}

/**
 * The Graphalytics adjacency format: each line `v n1 n2 ...`, whitespace-separated, declares
 * vertex v and the edges v→n1, v→n2, ... Blank lines are skipped; there are no comments.
 */
export function readAdjacency(input: GraphInput, options: GraphFileOptions = {}): AsyncGenerator<GraphChunk> {
  return drive(input, options, new AdjacencySink(fileName(input, options), options));
}

/** A `.v` file: one vertex id per line. Blank lines are skipped; there are no comments. */
export function readVertexFile(
  input: GraphInput,
  options: GraphFileOptions = {},
): AsyncGenerator<GraphChunk> {
  return drive(input, options, new VertexSink(fileName(input, options), options));
}

/**
 * An edge list, `.e` files included: `src dst [weight]` per line, fields separated by
 * whitespace or by a comma (with optional spaces around it). Blank lines and lines whose first
 * non-blank character is `#` or `%` are skipped.
 */
export function readEdgeList(input: GraphInput, options: GraphFileOptions = {}): AsyncGenerator<GraphChunk> {
  return drive(input, options, new EdgeListSink(fileName(input, options), options));
}

/**
 * CSV with a header row naming the columns: `src` and `dst` are required, `weight` is
 * optional, any other column is a property. Fields may be quoted (`"a, b"`, `""` for a quote,
 * line breaks inside quotes). Unquoted fields are trimmed. Blank lines are skipped.
 */
export function readCsv(input: GraphInput, options: CsvOptions = {}): AsyncGenerator<GraphChunk> {
  return drive(input, options, new CsvSink(fileName(input, options), options));
}

function fileName(input: GraphInput, options: GraphFileOptions): string {
  if (options.name !== undefined) return options.name;
  if (typeof input === 'string') return input;
  if (input instanceof URL) return fileURLToPath(input);
  return '<stream>';
}

/**
 * Read the input piece by piece, cut it into lines, feed the sink and yield its chunks. The
 * carried-over partial line is the only text kept between pieces.
 */
async function* drive(
  input: GraphInput,
  options: GraphFileOptions,
  sink: LineSink,
): AsyncGenerator<GraphChunk> {
  chunkSizeOf(options);
  let carry = '';
  let lineNo = 0;
  let first = true;
  for await (let piece of textPieces(input, sink.file)) {
    if (first && piece.length > 0) {
      if (piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
      first = false;
    }
    let start = 0;
    if (carry.length > 0) {
      // Only the line that straddles two pieces is copied; the rest is parsed in the piece
      // itself, a flat string straight from the decoder.
      const nl = piece.indexOf('\n');
      if (nl < 0) {
        carry += piece;
        continue;
      }
      const text = carry + piece.slice(0, nl);
      carry = '';
      lineNo++;
      sink.line(text, 0, lineEnd(text, 0, text.length), lineNo);
      start = nl + 1;
      if (sink.full()) yield sink.take(lineNo);
    }
    for (;;) {
      const nl = piece.indexOf('\n', start);
      if (nl < 0) break;
      lineNo++;
      sink.line(piece, start, lineEnd(piece, start, nl), lineNo);
      start = nl + 1;
      if (sink.full()) yield sink.take(lineNo);
    }
    carry = start === 0 ? piece : piece.slice(start);
  }
  if (carry.length > 0) {
    lineNo++;
    sink.line(carry, 0, lineEnd(carry, 0, carry.length), lineNo);
  }
  sink.finish(lineNo);
  if (!sink.empty()) yield sink.take(lineNo);
}

/** The end of the line text[start, nl) without a trailing carriage return. */
function lineEnd(text: string, start: number, nl: number): number {
  return nl > start && text.charCodeAt(nl - 1) === CH_CR ? nl - 1 : nl;
}

/**
 * The input as a sequence of strings, decoding bytes as UTF-8 across piece boundaries. A file
 * that cannot be opened or read is the caller's mistake, so it becomes INVALID_REQUEST.
 */
async function* textPieces(input: GraphInput, file: string): AsyncGenerator<string> {
  const source: AsyncIterable<string | Uint8Array> =
    typeof input === 'string' || input instanceof URL
      ? createReadStream(input, { highWaterMark: 1 << 20 })
      : input;
  const decoder = new TextDecoder('utf-8');
  try {
    for await (const piece of source) {
      if (typeof piece === 'string') yield piece;
      else {
        const s = decoder.decode(piece, { stream: true });
        if (s.length > 0) yield s;
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (typeof code === 'string' && FILE_ERRORS.has(code)) {
      throw new EpochgraphError('INVALID_REQUEST', `${file}: cannot read (${code})`, { file, code });
    }
    throw err;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}

/** fs error codes that mean a bad path rather than a broken system. */
const FILE_ERRORS = new Set(['ENOENT', 'EISDIR', 'EACCES', 'ENOTDIR', 'EPERM']);
