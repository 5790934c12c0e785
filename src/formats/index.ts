/**
 * formats/: streaming parsers of graph files for the bulk loader and the tests. Each reader is
 * an async generator of columnar {@link GraphChunk}s of about `chunkSize` edges, in constant
 * memory; a bad line throws INVALID_REQUEST with the message `<file>:<line>: <reason>`.
 *
 * ```ts
 * for await (const chunk of readGraphFile(path, formatFromPath(path))) {
 *   // chunk.vertices (adjacency, .v), chunk.src / chunk.dst (Float64Array when every id is an
 *   // integer), chunk.weights, chunk.props: ready for a columnar bulk batch (DESIGN.md §7)
 * }
 * ```
 */

// biome-ignore-all assist/source/organizeImports: one export per statement, so that each export carries its own TSDoc

/** Parse a file of any supported format. */
export { readGraphFile } from './graph-files.js';
/** The Graphalytics adjacency format, `v n1 n2 ...` per line. */
export { readAdjacency } from './graph-files.js';
/** A `.v` file: one vertex id per line. */
export { readVertexFile } from './graph-files.js';
/** An edge list (`.e` included): `src dst [weight]`, whitespace or comma separated, `#`/`%` comments. */
export { readEdgeList } from './graph-files.js';
/** CSV with a header: `src`, `dst`, optional `weight`, other columns as properties. */
export { readCsv } from './graph-files.js';
/** The format a file name suggests (`.v`, `.csv`, else an edge list). */
export { formatFromPath } from './graph-files.js';
/** The error of a bad line, `<file>:<line>: <reason>`, with `{ file, line, reason }` details. */
export { lineError } from './graph-files.js';
/** The supported formats, as a closed set. */
export { GRAPH_FILE_FORMATS } from './graph-files.js';
/** One of {@link GRAPH_FILE_FORMATS}. */
export type { GraphFileFormat } from './graph-files.js';
/** The types a CSV property column can hold, as a closed set. */
export { CSV_COLUMN_TYPES } from './graph-files.js';
/** One of {@link CSV_COLUMN_TYPES}. */
export type { CsvColumnType } from './graph-files.js';
/** The default number of edges per chunk (65536). */
export { DEFAULT_CHUNK_SIZE } from './graph-files.js';
/** One columnar chunk of a graph file, with its line range. */
export type { GraphChunk } from './graph-files.js';
/** A column of ids: Float64Array when all are integers, else a mixed array. */
export type { IdColumn } from './graph-files.js';
/** What a reader reads: a path, a URL, a stream or any async iterable of text or bytes. */
export type { GraphInput } from './graph-files.js';
/** Options of every reader: name, chunk size, id type. */
export type { GraphFileOptions } from './graph-files.js';
/** Options of the CSV reader: delimiter and column types. */
export type { CsvOptions } from './graph-files.js';
