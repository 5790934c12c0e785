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
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EpochgraphError } from '../errors.js';
import { type ExternalId, MAX_STRING_ID_BYTES, utf8ByteLength } from '../model/ids.js';

/** The file formats, as a closed set. */
export const GRAPH_FILE_FORMATS = ['adjacency', 'vertices', 'edgelist', 'csv'] as const;
/** One of {@link GRAPH_FILE_FORMATS}. */
export type GraphFileFormat = (typeof GRAPH_FILE_FORMATS)[number];

/** A column of ids: a Float64Array when every id is an integer, else a mixed array. */
export type IdColumn = Float64Array | ExternalId[];

/** Types a CSV property column can hold, as a closed set. */
export const CSV_COLUMN_TYPES = ['number', 'string', 'boolean'] as const;
/** One of {@link CSV_COLUMN_TYPES}. */
export type CsvColumnType = (typeof CSV_COLUMN_TYPES)[number];

/** One chunk of a graph file, in columns. Edge columns are parallel; any of them may be empty. */
export interface GraphChunk {
  /** The file name used in error messages. */
  file: string;
  /** Line number (1-based) of the first line that contributed to this chunk. */
  firstLine: number;
  /** Line number of the last line that contributed to this chunk. */
  lastLine: number;
  /** Vertices declared by the file: each line of a `.v` file, each line head of an adjacency file. */
  vertices?: IdColumn;
  /** Edge sources. */
  src: IdColumn;
  /** Edge destinations. */
  dst: IdColumn;
  /** Edge weights, present when any edge of the chunk has one; NaN where an edge has none. */
  weights?: Float64Array;
  /** CSV property columns other than src, dst and weight, parallel to the edges; null = empty. */
  props?: Record<string, (number | string | boolean | null)[]>;
}

/** What a parser reads: a file path or URL, a readable stream, or any async iterable of text or bytes. */
export type GraphInput = string | URL | AsyncIterable<string | Uint8Array>;

/** Options common to every parser. */
export interface GraphFileOptions {
  /** Name used in error messages and chunks; default the path, or `<stream>`. */
  name?: string;
  /** Target edges (or vertices) per chunk; default 65536. */
  chunkSize?: number;
  /** `string` reads every id as a string, even one made of digits. Default `auto`. */
  idType?: 'auto' | 'string';
}

/** Options of {@link readCsv}. */
export interface CsvOptions extends GraphFileOptions {
  /** Field delimiter, one character; default `,`. */
  delimiter?: string;
  /** Types of property columns; a column not listed takes the type of its first non-empty value. */
  types?: Record<string, CsvColumnType>;
}

/** The default number of edges per chunk. */
export const DEFAULT_CHUNK_SIZE = 65536;

const CH_TAB = 9;
const CH_SPACE = 32;
const CH_QUOTE = 34;
const CH_HASH = 35;
const CH_PERCENT = 37;
const CH_COMMA = 44;
const CH_CR = 13;
/** Exact powers of ten for the weight fast path (10^0 .. 10^15 are all exact doubles). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);
/** A decimal number: sign, digits with an optional fraction, optional exponent. */
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The error of a bad line: message `<file>:<line>: <reason>`, details `{ file, line, reason }`. */
export function lineError(file: string, line: number, reason: string): EpochgraphError {
  return new EpochgraphError('INVALID_REQUEST', `${file}:${line}: ${reason}`, { file, line, reason });
}

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

function chunkSizeOf(options: GraphFileOptions): number {
  const size = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new EpochgraphError('INVALID_REQUEST', `chunkSize must be a positive integer, got ${size}`);
  }
  return size;
}

/** A consumer of lines that builds chunks. */
interface LineSink {
  /** The file name used in messages. */
  readonly file: string;
  /** Parse text[start, end) as line `line` (no line terminator). */
  line(text: string, start: number, end: number, line: number): void;
  /** Whether the current chunk has reached its target size. */
  full(): boolean;
  /** Whether the current chunk holds anything. */
  empty(): boolean;
  /** Hand over the current chunk and start a new one. */
  take(lastLine: number): GraphChunk;
  /** Called after the last line. */
  finish(lastLine: number): void;
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

/** A growable id column that stays a Float64Array until the first string id arrives. */
class IdColumnBuilder {
  private nums = new Float64Array(1024);
  private mixed: ExternalId[] | null = null;
  length = 0;

  push(id: ExternalId): void {
    if (this.mixed !== null) this.mixed.push(id);
    else if (typeof id === 'number') {
      if (this.length === this.nums.length) {
        const grown = new Float64Array(this.nums.length * 2);
        grown.set(this.nums);
        this.nums = grown;
      }
      this.nums[this.length] = id;
    } else {
      this.mixed = Array.from(this.nums.subarray(0, this.length));
      this.mixed.push(id);
    }
    this.length++;
  }

  take(): IdColumn {
    const out = this.mixed ?? this.nums.slice(0, this.length);
    this.mixed = null;
    this.length = 0;
    return out;
  }
}

/** A growable weight column; NaN marks an edge without a weight. */
class WeightBuilder {
  private values = new Float64Array(1024);
  private length = 0;
  any = false;

  push(w: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = w;
    if (!Number.isNaN(w)) this.any = true;
  }

  take(): Float64Array | undefined {
    const out = this.any ? this.values.slice(0, this.length) : undefined;
    this.length = 0;
    this.any = false;
    return out;
  }
}

/** Shared state of the sinks: the file name, id rules, and the edge and vertex columns. */
abstract class ChunkSink implements LineSink {
  protected readonly src = new IdColumnBuilder();
  protected readonly dst = new IdColumnBuilder();
  protected readonly vertices = new IdColumnBuilder();
  protected readonly weights = new WeightBuilder();
  protected readonly chunkSize: number;
  protected readonly stringIds: boolean;
  protected firstLine = 0;
  protected hasVertices = false;

  constructor(
    readonly file: string,
    options: GraphFileOptions,
  ) {
    this.chunkSize = chunkSizeOf(options);
    this.stringIds = options.idType === 'string';
  }

  abstract line(text: string, start: number, end: number, line: number): void;

  full(): boolean {
    return this.src.length >= this.chunkSize || this.vertices.length >= this.chunkSize;
  }

  empty(): boolean {
    return this.src.length === 0 && this.vertices.length === 0;
  }

  take(lastLine: number): GraphChunk {
    const chunk: GraphChunk = {
      file: this.file,
      firstLine: this.firstLine,
      lastLine,
      src: this.src.take(),
      dst: this.dst.take(),
    };
    if (this.hasVertices) chunk.vertices = this.vertices.take();
    const w = this.weights.take();
    if (w !== undefined) chunk.weights = w;
    this.takeExtra(chunk);
    this.firstLine = 0;
    return chunk;
  }

  finish(_lastLine: number): void {}

  protected takeExtra(_chunk: GraphChunk): void {}

  protected fail(line: number, reason: string): EpochgraphError {
    return lineError(this.file, line, reason);
  }

  /** Parse text[s, e) as an id (see the module comment for the rules). */
  protected id(text: string, s: number, e: number, line: number): ExternalId {
    if (!this.stringIds) {
      let v = 0;
      let i = s;
      for (; i < e; i++) {
        const c = text.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
      }
      if (i === e) {
        // Past 2^53 the accumulation is inexact but stays above the limit, so the test holds.
        if (v > Number.MAX_SAFE_INTEGER) {
          throw this.fail(
            line,
            `id ${text.slice(s, e)} is larger than 2^53-1 (read ids as strings to keep it as a string id)`,
          );
        }
        return v;
      }
    }
    return this.stringId(text.slice(s, e), line);
  }

  protected stringId(str: string, line: number): string {
    if (str.length === 0) throw this.fail(line, 'empty id');
    if (str.length * 3 > MAX_STRING_ID_BYTES && utf8ByteLength(str) > MAX_STRING_ID_BYTES) {
      throw this.fail(
        line,
        `string id "${str.slice(0, 32)}..." is ${utf8ByteLength(str)} UTF-8 bytes; the limit is ${MAX_STRING_ID_BYTES}`,
      );
    }
    return str;
  }

  /** Parse text[s, e) as a weight. */
  protected weight(text: string, s: number, e: number, line: number): number {
    // Fast path (Clinger's): at most 15 digits, an optional fraction, no exponent. The digits
    // form an exact integer and 10^k is exact, so one division is one correct rounding and
    // gives exactly what Number() gives.
    let i = s;
    let c = text.charCodeAt(i);
    const negative = c === 45;
    if (negative || c === 43) i++;
    let mantissa = 0;
    let digits = 0;
    let fraction = -1;
    for (; i < e; i++) {
      c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
        if (fraction >= 0) fraction++;
      } else if (c === 46 && fraction < 0) fraction = 0;
      else break;
    }
    if (i === e && digits > 0 && digits <= 15) {
      const v = fraction > 0 ? mantissa / POW10[fraction] : mantissa;
      return negative ? -v : v;
    }
    const raw = text.slice(s, e);
    if (!FLOAT_RE.test(raw)) throw this.fail(line, `weight "${raw}" is not a number`);
    return Number(raw);
  }

  protected touch(line: number): void {
    if (this.firstLine === 0) this.firstLine = line;
  }
}

function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_CR || c === 12 || c === 11;
}

/** Index of the first non-blank character of text[i, e), or e. */
function skipBlanks(text: string, i: number, e: number): number {
  while (i < e && isBlank(text.charCodeAt(i))) i++;
  return i;
}

class AdjacencySink extends ChunkSink {
  constructor(file: string, options: GraphFileOptions) {
    super(file, options);
    this.hasVertices = true;
  }

  line(text: string, start: number, end: number, line: number): void {
    let i = skipBlanks(text, start, end);
    if (i === end) return;
    this.touch(line);
    let j = i;
    while (j < end && !isBlank(text.charCodeAt(j))) j++;
    const v = this.id(text, i, j, line);
    this.vertices.push(v);
    i = skipBlanks(text, j, end);
    while (i < end) {
      j = i;
      while (j < end && !isBlank(text.charCodeAt(j))) j++;
      this.src.push(v);
      this.dst.push(this.id(text, i, j, line));
      i = skipBlanks(text, j, end);
    }
  }
}

class VertexSink extends ChunkSink {
  constructor(file: string, options: GraphFileOptions) {
    super(file, options);
    this.hasVertices = true;
  }

  line(text: string, start: number, end: number, line: number): void {
    const i = skipBlanks(text, start, end);
    if (i === end) return;
    let j = i;
    while (j < end && !isBlank(text.charCodeAt(j))) j++;
    const k = skipBlanks(text, j, end);
    if (k < end) {
      throw this.fail(line, `expected "id", got ${countFields(text, i, end, false)} fields`);
    }
    this.touch(line);
    this.vertices.push(this.id(text, i, j, line));
  }
}

/** Number of fields in text[i, e), for error messages. */
function countFields(text: string, i: number, e: number, commas: boolean): number {
  let n = 0;
  i = skipBlanks(text, i, e);
  while (i < e) {
    let j = i;
    while (j < e) {
      const c = text.charCodeAt(j);
      if (isBlank(c) || (commas && c === CH_COMMA)) break;
      j++;
    }
    n++;
    i = skipBlanks(text, j, e);
    if (commas && i < e && text.charCodeAt(i) === CH_COMMA) i = skipBlanks(text, i + 1, e);
  }
  return n;
}

class EdgeListSink extends ChunkSink {
  private readonly starts = new Int32Array(3);
  private readonly ends = new Int32Array(3);

  line(text: string, start: number, end: number, line: number): void {
    let i = skipBlanks(text, start, end);
    if (i === end) return;
    const c0 = text.charCodeAt(i);
    if (c0 === CH_HASH || c0 === CH_PERCENT) return;
    let n = 0;
    while (i < end) {
      if (text.charCodeAt(i) === CH_COMMA) throw this.fail(line, `empty field ${n + 1}`);
      let j = i;
      while (j < end) {
        const c = text.charCodeAt(j);
        if (c === CH_COMMA || isBlank(c)) break;
        j++;
      }
      if (n < 3) {
        this.starts[n] = i;
        this.ends[n] = j;
      }
      n++;
      i = skipBlanks(text, j, end);
      if (i < end && text.charCodeAt(i) === CH_COMMA) {
        i = skipBlanks(text, i + 1, end);
        if (i === end) throw this.fail(line, `empty field ${n + 1}`);
      }
    }
    if (n < 2 || n > 3)
      throw this.fail(line, `expected "src dst [weight]", got ${n} field${n === 1 ? '' : 's'}`);
    this.touch(line);
    const s = this.id(text, this.starts[0], this.ends[0], line);
    const d = this.id(text, this.starts[1], this.ends[1], line);
    const w = n === 3 ? this.weight(text, this.starts[2], this.ends[2], line) : Number.NaN;
    this.src.push(s);
    this.dst.push(d);
    this.weights.push(w);
  }
}

const CSV_FIELD_START = 0;
const CSV_UNQUOTED = 1;
const CSV_QUOTED = 2;
const CSV_AFTER_QUOTE = 3;

/** A property column of a CSV file and its type, once known. */
interface CsvProp {
  name: string;
  index: number;
  type: CsvColumnType | null;
  values: (number | string | boolean | null)[];
}

class CsvSink extends ChunkSink {
  private readonly delimiter: number;
  private readonly types: Record<string, CsvColumnType>;
  private header: string[] | null = null;
  private srcCol = -1;
  private dstCol = -1;
  private weightCol = -1;
  private props: CsvProp[] = [];
  // The record being read; it spans lines while a quoted field holds a line break.
  private fields: string[] = [];
  private field = '';
  private state = CSV_FIELD_START;
  private recordLine = 0;
  private quotedAny = false;

  constructor(file: string, options: CsvOptions) {
    super(file, options);
    const delim = options.delimiter ?? ',';
    if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `CSV delimiter must be one character other than a quote or line break`,
      );
    }
    this.delimiter = delim.charCodeAt(0);
    this.types = options.types ?? {};
    for (const [name, type] of Object.entries(this.types)) {
      if (!CSV_COLUMN_TYPES.includes(type)) {
        throw new EpochgraphError(
          'INVALID_REQUEST',
          `CSV column "${name}": type must be one of ${CSV_COLUMN_TYPES.join(', ')}, got ${String(type)}`,
        );
      }
    }
  }

  line(text: string, start: number, end: number, line: number): void {
    if (this.state === CSV_QUOTED) {
      // A line break inside quotes belongs to the field.
      this.field += '\n';
    } else {
      this.recordLine = line;
      this.quotedAny = false;
    }
    const delim = this.delimiter;
    let i = start;
    let runStart = start;
    while (i < end) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case CSV_FIELD_START:
          if (c === CH_QUOTE) {
            this.state = CSV_QUOTED;
            this.quotedAny = true;
            this.field = '';
            runStart = i + 1;
          } else if (c === delim) {
            this.fields.push('');
          } else if (!isBlank(c)) {
            this.state = CSV_UNQUOTED;
            runStart = i;
          }
          i++;
          break;
        case CSV_UNQUOTED:
          if (c === delim) {
            this.fields.push(text.slice(runStart, i).trim());
            this.state = CSV_FIELD_START;
          } else if (c === CH_QUOTE) {
            throw this.fail(line, `quote inside unquoted field ${this.fields.length + 1}`);
          }
          i++;
          break;
        case CSV_QUOTED: {
          const q = text.indexOf('"', i);
          if (q < 0 || q >= end) {
            this.field += text.slice(runStart, end);
            i = end;
            runStart = end;
            break;
          }
          this.field += text.slice(runStart, q);
          if (q + 1 < end && text.charCodeAt(q + 1) === CH_QUOTE) {
            this.field += '"';
            i = q + 2;
            runStart = i;
          } else {
            this.state = CSV_AFTER_QUOTE;
            i = q + 1;
          }
          break;
        }
        case CSV_AFTER_QUOTE:
          if (c === delim) {
            this.fields.push(this.field);
            this.field = '';
            this.state = CSV_FIELD_START;
          } else if (!isBlank(c)) {
            throw this.fail(
              line,
              `unexpected character after the closing quote of field ${this.fields.length + 1}`,
            );
          }
          i++;
          break;
      }
    }
    if (this.state === CSV_QUOTED) {
      if (runStart < end) this.field += text.slice(runStart, end);
      return;
    }
    // End of the record.
    if (this.state === CSV_UNQUOTED) this.fields.push(text.slice(runStart, end).trim());
    else if (this.state === CSV_AFTER_QUOTE) this.fields.push(this.field);
    else if (this.fields.length > 0) this.fields.push(''); // a trailing delimiter: one more, empty field
    const fields = this.fields;
    this.fields = [];
    this.field = '';
    this.state = CSV_FIELD_START;
    if (fields.length === 0 && !this.quotedAny) return; // blank line
    this.record(fields, this.recordLine);
  }

  override finish(lastLine: number): void {
    if (this.state === CSV_QUOTED) {
      throw this.fail(lastLine, `unterminated quoted field (opened on line ${this.recordLine})`);
    }
    if (this.header === null) throw this.fail(Math.max(lastLine, 1), 'no header row');
  }

  private record(fields: string[], line: number): void {
    if (this.header === null) {
      this.readHeader(fields, line);
      return;
    }
    const header = this.header;
    if (fields.length !== header.length) {
      throw this.fail(line, `expected ${header.length} fields (${header.join(',')}), got ${fields.length}`);
    }
    this.touch(line);
    const s = fields[this.srcCol];
    const d = fields[this.dstCol];
    if (s.length === 0) throw this.fail(line, 'empty src');
    if (d.length === 0) throw this.fail(line, 'empty dst');
    this.src.push(this.id(s, 0, s.length, line));
    this.dst.push(this.id(d, 0, d.length, line));
    if (this.weightCol >= 0) {
      const w = fields[this.weightCol];
      this.weights.push(w.length === 0 ? Number.NaN : this.weight(w, 0, w.length, line));
    }
    for (const p of this.props) p.values.push(this.propValue(p, fields[p.index], line));
  }

  private readHeader(fields: string[], line: number): void {
    const names = fields.map((f) => f.trim());
    const seen = new Set<string>();
    for (const name of names) {
      if (name.length === 0) throw this.fail(line, 'empty column name in the header');
      if (seen.has(name)) throw this.fail(line, `column "${name}" appears twice in the header`);
      seen.add(name);
    }
    this.srcCol = names.indexOf('src');
    this.dstCol = names.indexOf('dst');
    this.weightCol = names.indexOf('weight');
    if (this.srcCol < 0 || this.dstCol < 0) {
      const missing = this.srcCol < 0 ? 'src' : 'dst';
      throw this.fail(line, `the header has no "${missing}" column (columns: ${names.join(', ')})`);
    }
    this.header = names;
    this.props = [];
    names.forEach((name, index) => {
      if (index === this.srcCol || index === this.dstCol || index === this.weightCol) return;
      this.props.push({ name, index, type: this.types[name] ?? null, values: [] });
    });
  }

  private propValue(p: CsvProp, raw: string, line: number): number | string | boolean | null {
    if (raw.length === 0) return null;
    if (p.type === null) p.type = inferType(raw);
    switch (p.type) {
      case 'string':
        return raw;
      case 'number':
        if (!FLOAT_RE.test(raw)) throw this.fail(line, `column "${p.name}" holds numbers, got "${raw}"`);
        return Number(raw);
      case 'boolean': {
        const lower = raw.toLowerCase();
        if (lower === 'true') return true;
        if (lower === 'false') return false;
        throw this.fail(line, `column "${p.name}" holds booleans, got "${raw}"`);
      }
    }
  }

  protected override takeExtra(chunk: GraphChunk): void {
    if (this.props.length === 0) return;
    const props: Record<string, (number | string | boolean | null)[]> = {};
    for (const p of this.props) {
      props[p.name] = p.values;
      p.values = [];
    }
    chunk.props = props;
  }
}

function inferType(raw: string): CsvColumnType {
  if (FLOAT_RE.test(raw)) return 'number';
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === 'false') return 'boolean';
  return 'string';
}
