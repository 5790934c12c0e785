/**
 * The types and constants of the graph-file parsers (graph-files.ts re-exports them): the
 * formats, the columnar chunk they yield, their options, and the error of a bad line.
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';

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

/** The error of a bad line: message `<file>:<line>: <reason>`, details `{ file, line, reason }`. */
export function lineError(file: string, line: number, reason: string): EpochgraphError {
  return new EpochgraphError('INVALID_REQUEST', `${file}:${line}: ${reason}`, { file, line, reason });
}
