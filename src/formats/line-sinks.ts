/**
 * The line parsers behind graph-files.ts: a LineSink takes one line at a time and builds
 * columnar chunks. ChunkSink holds what every format shares (id and weight columns, id and
 * weight tokens read straight from the text, chunk hand-over); AdjacencySink, VertexSink and
 * EdgeListSink are the line formats (CsvSink, in csv-sink.ts, is the CSV one).
 */
import { EpochgraphError } from '../errors.js';
import { IdColumnBuilder } from '../model/id-column.js';
import { type ExternalId, MAX_STRING_ID_BYTES, utf8ByteLength } from '../model/ids.js';
import { DEFAULT_CHUNK_SIZE, type GraphChunk, type GraphFileOptions, lineError } from './graph-file-types.js';

const CH_TAB = 9;
const CH_SPACE = 32;
export const CH_QUOTE = 34;
const CH_HASH = 35;
const CH_PERCENT = 37;
const CH_COMMA = 44;
export const CH_CR = 13;
/** Exact powers of ten for the weight fast path (10^0 .. 10^15 are all exact doubles). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);
/** A decimal number: sign, digits with an optional fraction, optional exponent. */
export const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A consumer of lines that builds chunks. */
export interface LineSink {
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

/** The chunk size of the options (default DEFAULT_CHUNK_SIZE), checked. */
export function chunkSizeOf(options: GraphFileOptions): number {
  const size = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new EpochgraphError('INVALID_REQUEST', `chunkSize must be a positive integer, got ${size}`);
  }
  return size;
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
export abstract class ChunkSink implements LineSink {
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

export function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_CR || c === 12 || c === 11;
}

/** Index of the first non-blank character of text[i, e), or e. */
export function skipBlanks(text: string, i: number, e: number): number {
  while (i < e && isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** Index of the first blank character of text[i, e) (the end of a field), or e. */
function fieldEnd(text: string, i: number, e: number): number {
  while (i < e && !isBlank(text.charCodeAt(i))) i++;
  return i;
}

export class AdjacencySink extends ChunkSink {
  constructor(file: string, options: GraphFileOptions) {
    super(file, options);
    this.hasVertices = true;
  }

  line(text: string, start: number, end: number, line: number): void {
    let i = skipBlanks(text, start, end);
    if (i === end) return;
    this.touch(line);
    let j = fieldEnd(text, i, end);
    const v = this.id(text, i, j, line);
    this.vertices.push(v);
    i = skipBlanks(text, j, end);
    while (i < end) {
      j = fieldEnd(text, i, end);
      this.src.push(v);
      this.dst.push(this.id(text, i, j, line));
      i = skipBlanks(text, j, end);
    }
  }
}

export class VertexSink extends ChunkSink {
  constructor(file: string, options: GraphFileOptions) {
    super(file, options);
    this.hasVertices = true;
  }

  line(text: string, start: number, end: number, line: number): void {
    const i = skipBlanks(text, start, end);
    if (i === end) return;
    const j = fieldEnd(text, i, end);
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

export class EdgeListSink extends ChunkSink {
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
