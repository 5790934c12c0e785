/**
 * epochgraph/client: the typed TypeScript client of the epochgraph HTTP API.
 *
 * ```ts
 * import { EpochgraphClient } from 'epochgraph/client';
 * const client = new EpochgraphClient({ server: 'http://127.0.0.1:7070' });
 * const { epoch } = await client.submitBatch({ edges: { src: Float64Array.of(1, 2), dst: Float64Array.of(2, 3) } });
 * const page = await client.neighbors(1, { epoch });
 * await client.withPinnedEpoch(async (e) => {
 *   for await (const p of client.neighborPages(1, { epoch: e })) console.log(p.neighbors);
 * }, { ttlMs: 60_000 });
 * ```
 *
 * Bodies are msgpack by default (numeric columns as typed arrays), JSON with
 * `encoding: 'json'`. Errors the server answers with are EpochgraphError (code, message,
 * details from the error body); requests that got no answer fail with ConnectionError.
 *
 * Retries (bounded, exponential backoff with jitter, honouring Retry-After): reads are
 * retried on 503/502/504 and connection errors; writes (batches, pin creation) only when the
 * server cannot have applied them: the connection was refused before sending, or the
 * answer was 503 NOT_READY.
 */

// biome-ignore-all assist/source/organizeImports: one export per statement, so that each export carries its own TSDoc

/** The client: one method per route of the HTTP API. */
export { EpochgraphClient } from './client.js';
/** The default daemon address, `http://127.0.0.1:7070`. */
export { DEFAULT_SERVER } from './client.js';
/** Neighbour directions (`out`, `in`, `both`), as a closed set. */
export { DIRECTIONS } from './client.js';
/** CSR export directions (`out`, `in`), as a closed set. */
export { CSR_DIRECTIONS } from './client.js';
/** The algorithm names, as a closed set. */
export { ALGORITHM_NAMES } from './client.js';
/** Constructor options: server, encoding, retry, timeout, fetch, headers. */
export type { ClientOptions } from './client.js';
/** Which snapshot a read is at: `{ epoch }` (a number or `latest`) or `{ asOf }`. */
export type { At } from './client.js';
/** A batch: ops and/or the columnar edge form. */
export type { BatchInput } from './client.js';
/** Options of a neighbour read (direction, label, page size, cursor, edge properties). */
export type { NeighborOptions } from './client.js';
/** One page of neighbours, ids as a plain array. */
export type { NeighborPage } from './client.js';
/** Options of a batch-neighbour read. */
export type { BatchNeighborOptions } from './client.js';
/** Options of a subgraph read. */
export type { SubgraphOptions } from './client.js';
/** Options of a partition CSR export. */
export type { CsrOptions } from './client.js';
/** Options of a pin: TTL and epoch. */
export type { PinOptions } from './client.js';
/** A neighbour direction. */
export type { Direction } from './client.js';
/** A CSR export direction. */
export type { CsrDirection } from './client.js';
/** An algorithm name. */
export type { AlgorithmName } from './client.js';
/** Each algorithm's parameters. */
export type { AlgorithmParamsByName } from './client.js';
/** Parameters every algorithm takes (`undirected`, `top`). */
export type { CommonAlgorithmParams } from './client.js';
/** Options of one call: abort signal, retry override, per-attempt timeout. */
export type { CallOptions } from './transport.js';
/** Body encodings, as a closed set. */
export { ENCODINGS } from './transport.js';
/** A body encoding: `msgpack` or `json`. */
export type { Encoding } from './transport.js';
/** Retry options: attempts, backoff base and cap, longest Retry-After honoured. */
export type { RetryOptions } from './retry.js';
/** The default retry options. */
export { DEFAULT_RETRY } from './retry.js';
/** A request that got no answer; says whether a write may have been applied. */
export { ConnectionError } from './connection-error.js';
/** The error of every answer with an error body (`code`, `message`, `details`, `status`). */
export { EpochgraphError } from '../errors.js';
/** The error codes. */
export type { ErrorCode } from '../errors.js';
/** An external vertex id: a non-negative safe integer or a string. */
export type { ExternalId } from '../model/ids.js';
/** The ops of a batch. */
export type { Op, EdgeColumns } from '../model/ops.js';
/** Answer bodies of the routes. */
export type {
  AlgorithmResult,
  AlgorithmValues,
  BatchAck,
  EpochDetail,
  EpochsInfo,
  GraphSchema,
  Health,
  IdColumn,
  NeighborRows,
  NumberColumn,
  PartitionCsr,
  PinInfo,
  Ready,
  Subgraph,
  Vertex,
} from './responses.js';
/** The value of row i of an algorithm result, with NaN (msgpack's null) read as null. */
export { valueAt } from './responses.js';
/** Decode one msgpack value from a byte stream as it arrives (used for CSR exports). */
export { decodeMsgpackStream } from './msgpack-stream.js';
