/**
 * The bodies the server answers with (DESIGN.md §7), as zod schemas and the types they give.
 * A client trusts nothing from the network: every answer is checked before it is handed to
 * the caller, and a body that does not fit is an INTERNAL error naming the route and the
 * first problem. Objects are loose (a newer server may add fields); columns are checked by
 * a loop, not element by element through zod, because they can hold millions of entries.
 *
 * In msgpack, numeric columns arrive as typed arrays (a Float64Array of ids when every id is
 * an integer); in JSON they are plain arrays. The types say so: {@link IdColumn}.
 */
import { z } from 'zod';
import { type ErrorData, errorFromData } from '../errors.js';
import { type ExternalId, isExternalId } from '../model/ids.js';

/** A column of ids: a Float64Array (msgpack, every id an integer) or an array of ids. */
export type IdColumn = Float64Array | ExternalId[];
/** A column of numbers: a Float64Array (msgpack) or an array (JSON). */
export type NumberColumn = Float64Array | number[];

/** Whether v is a column of valid external ids. */
function isIdColumn(v: unknown): v is IdColumn {
  if (v instanceof Float64Array) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!(x >= 0 && Number.isSafeInteger(x))) return false;
    }
    return true;
  }
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isExternalId(v[i])) return false;
  return true;
}

function isNumberColumn(v: unknown): v is NumberColumn {
  if (v instanceof Float64Array) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') return false;
  return true;
}

const idColumn = z.custom<IdColumn>(isIdColumn, 'expected a column of ids');
const numberColumn = z.custom<NumberColumn>(isNumberColumn, 'expected a column of numbers');
const externalId = z.custom<ExternalId>(isExternalId, 'expected a vertex id');
const count = z.number().int().min(0);
const epoch = count;

const propValue = z.union([
  z.number(),
  z.string(),
  z.boolean(),
  z.array(z.number()),
  z.instanceof(Float32Array),
  z.instanceof(Float64Array),
]);
/** A property value as the server returns it (vectors may be typed arrays in msgpack). */
export type PropValueOut = z.infer<typeof propValue>;
const props = z.record(z.string(), propValue);

const partitionCounts = z.looseObject({ partition: count, vertices: count, edges: count });

export const healthSchema = z.looseObject({
  status: z.enum(['ok', 'degraded']),
  writable: z.boolean(),
  failure: z.string().optional(),
  ready: z.boolean(),
  latestEpoch: epoch,
  oldestEpoch: epoch,
  partitions: count,
  uptimeS: z.number(),
});
/** `GET /v1/health`: liveness and the latest epoch (plus where the metadata lives). */
export type Health = z.infer<typeof healthSchema>;

export const readySchema = z.looseObject({ ready: z.literal(true), latestEpoch: epoch });
/** `GET /v1/ready` when ready. */
export type Ready = z.infer<typeof readySchema>;

export const epochsSchema = z.looseObject({
  latest: epoch,
  oldest: epoch,
  epochMs: z.number(),
  retainMs: z.number(),
  latestSealedAt: z.string(),
  retained: count,
  partitions: z.array(partitionCounts.extend({ epoch })),
});
/** `GET /v1/epochs`: latest and oldest readable epochs, per-partition counts at the latest. */
export type EpochsInfo = z.infer<typeof epochsSchema>;

export const epochDetailSchema = z.looseObject({
  epoch,
  sealedAt: z.string(),
  vertices: count,
  edges: count,
  partitions: z.array(partitionCounts),
});
/** `GET /v1/epochs/:epoch`: when an epoch was sealed and what it held. */
export type EpochDetail = z.infer<typeof epochDetailSchema>;

export const pinSchema = z.looseObject({ pin: z.string().min(1), epoch, expiresAt: z.string() });
/** `POST /v1/pins`: the pin's id, the epoch it holds and when it expires. */
export type PinInfo = z.infer<typeof pinSchema>;

export const batchAckSchema = z.looseObject({
  epoch,
  applied: z.looseObject({
    upsertedVertices: count,
    deletedVertices: count,
    upsertedEdges: count,
    deletedEdges: count,
  }),
});
/** `POST /v1/batches`: the epoch that holds the batch (readable at once) and what it did. */
export type BatchAck = z.infer<typeof batchAckSchema>;

export const vertexSchema = z.looseObject({
  epoch,
  id: externalId,
  label: z.string(),
  props,
  outDegree: count,
  inDegree: count,
  createdEpoch: epoch.optional(),
});
/** `GET /v1/snapshots/:epoch/vertices/:id`. */
export type Vertex = z.infer<typeof vertexSchema>;

export const neighborPageSchema = z.looseObject({
  epoch,
  id: externalId,
  neighbors: idColumn,
  directions: z.array(z.enum(['out', 'in'])).optional(),
  props: z.array(props).optional(),
  nextCursor: z.string().optional(),
});
/** One page of `GET .../vertices/:id/neighbors`, as received. */
export type NeighborPageBody = z.infer<typeof neighborPageSchema>;

export const neighborRowsSchema = z.looseObject({
  epoch,
  offsets: numberColumn,
  neighbors: idColumn,
  missing: numberColumn,
});
/** `POST .../neighbors`: CSR rows in request order; `missing` lists indices of absent ids. */
export type NeighborRows = z.infer<typeof neighborRowsSchema>;

export const subgraphSchema = z.looseObject({
  epoch,
  vertices: idColumn,
  edges: z.looseObject({ src: idColumn, dst: idColumn }),
  truncated: z.boolean(),
});
/** `POST .../subgraph`: the k-hop neighbourhood of the seeds and the edges among it. */
export type Subgraph = z.infer<typeof subgraphSchema>;

export const partitionCsrSchema = z.looseObject({
  epoch,
  partition: count,
  ids: idColumn,
  offsets: numberColumn,
  neighbors: idColumn,
});
/** `GET .../partitions/:p/csr`: one partition's rows, offsets and neighbour ids. */
export type PartitionCsr = z.infer<typeof partitionCsrSchema>;

const labelSchema = z.looseObject({
  name: z.string(),
  properties: z.array(z.looseObject({ name: z.string(), type: z.string(), length: z.number().optional() })),
});
export const schemaSchema = z.looseObject({
  epoch,
  vertexLabels: z.array(labelSchema),
  edgeLabels: z.array(labelSchema),
});
/** `GET /v1/schema`: labels and their typed properties. */
export type GraphSchema = z.infer<typeof schemaSchema>;

/** Algorithm values: a Float64Array in msgpack (NaN for null), or numbers, ids and nulls. */
export type AlgorithmValues = Float64Array | (number | string | null)[];
const algorithmValues = z.custom<AlgorithmValues>(
  (v) =>
    v instanceof Float64Array ||
    (Array.isArray(v) && v.every((x) => x === null || typeof x === 'number' || typeof x === 'string')),
  'expected a column of values',
);
export const algorithmResultSchema = z
  .looseObject({ epoch, algorithm: z.string(), ids: idColumn, values: algorithmValues })
  .refine((r) => r.ids.length === r.values.length, 'ids and values differ in length');
/**
 * `POST .../algorithms/:name`: ids and their values as parallel columns. In msgpack, values
 * is a Float64Array where NaN stands for null (unreachable); see {@link valueAt}.
 */
export type AlgorithmResult = z.infer<typeof algorithmResultSchema>;

/** The value of row i of an algorithm result, with NaN read as null. */
export function valueAt(values: AlgorithmValues, i: number): number | string | null {
  const v = values[i];
  return typeof v === 'number' && Number.isNaN(v) ? null : v;
}

const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** The error a non-2xx answer carries, or null when the body is not the API's error shape. */
export function errorOfBody(body: unknown): ReturnType<typeof errorFromData> | null {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return null;
  const err = errorFromData(parsed.data.error as ErrorData);
  // An unknown code (a newer server) keeps the server's message rather than "malformed".
  return err.code === 'INTERNAL' && parsed.data.error.code !== 'INTERNAL'
    ? errorFromData({ code: 'INTERNAL', message: `${parsed.data.error.code}: ${parsed.data.error.message}` })
    : err;
}
