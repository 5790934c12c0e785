/**
 * zod schemas shared by the routes: epoch arguments, ids, directions, id columns (plain arrays
 * in JSON, typed arrays in msgpack) and the error body. Closed sets come from const arrays.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../src/errors.js';
import { externalIdProblem, MAX_STRING_ID_BYTES, utf8ByteLength } from '../src/model/ids.js';
import { NEIGHBOR_DIRECTIONS } from '../src/storage/graph-snapshot.js';

/** CSR export directions (one direction per export). */
export const CSR_DIRECTIONS = ['out', 'in'] as const;

/** `:epoch` in a path: a decimal epoch number or `latest`. */
export const epochArg = z
  .string()
  .regex(/^(latest|[0-9]{1,15})$/, 'must be an epoch number or "latest"')
  .describe('an epoch number, or "latest"');

/** `?asOf=`: an ISO 8601 date-time with an offset (or Z). */
export const asOfArg = z.iso
  .datetime({ offset: true })
  .optional()
  .describe('pick the newest epoch sealed at or before this time (ISO 8601, with Z or an offset)');

export const epochParams = z.object({ epoch: epochArg });
export const snapshotQuery = z.object({ asOf: asOfArg });

export const direction = z.enum(NEIGHBOR_DIRECTIONS);
export const csrDirection = z.enum(CSR_DIRECTIONS);
export const label = z.string().min(1).max(128);

/**
 * A zod error customizer: `message` when no branch of a union matched (in place of zod's
 * "Invalid input"), zod's own message otherwise.
 */
export const unionMessage = (message: string) => (iss: { code?: string }) =>
  iss.code === 'invalid_union' ? message : undefined;

/**
 * An external id in a body: a non-negative safe integer (zod's int() is the safe range) or a
 * non-empty string. A value of neither kind is explained as the storage layer would
 * (externalIdProblem: "id 1.5 is not an integer"), not as a failed union.
 */
export const externalId = z.union(
  [
    z.number().int().min(0),
    z
      .string()
      .min(1)
      .refine(
        (s) => utf8ByteLength(s) <= MAX_STRING_ID_BYTES,
        `string ids are at most ${MAX_STRING_ID_BYTES} UTF-8 bytes`,
      ),
  ],
  {
    error: (iss) => (iss.code === 'invalid_union' ? (externalIdProblem(iss.input) ?? undefined) : undefined),
  },
);

const isIdTypedArray = (v: unknown): v is Float64Array | Uint32Array | Int32Array =>
  v instanceof Float64Array || v instanceof Uint32Array || v instanceof Int32Array;

/** A typed array of integer ids (msgpack only); its elements are checked by the route. */
export const typedIds = z
  .custom<Float64Array | Uint32Array | Int32Array>(isIdTypedArray, 'expected an array of ids')
  .meta({ description: 'msgpack only: a Float64Array, Uint32Array or Int32Array of integer ids' });

/** A column of ids: an array (JSON or msgpack) or a typed array (msgpack). */
export function idList(max: number) {
  return z.union([z.array(externalId).max(max), typedIds], {
    error: unionMessage(
      'expected an array of ids (in msgpack, also a Float64Array, Uint32Array or Int32Array)',
    ),
  });
}

/** A numeric column in an answer: a plain array in JSON, a Float64Array in msgpack. */
export const numberColumn = z.array(z.number()).describe('Float64Array in msgpack');
/** An id column in an answer: Float64Array in msgpack when every id is an integer. */
export const idColumnOut = z
  .array(z.union([z.number(), z.string()]))
  .describe('Float64Array in msgpack when every id is an integer');

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES as [string, ...string[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .describe('every error has this shape');

/** Response schemas of the errors a snapshot route can give (for the docs). */
export const snapshotErrors = {
  400: errorBody,
  404: errorBody,
  410: errorBody,
  503: errorBody,
};

export const propValueOut = z.union([z.number(), z.string(), z.boolean(), z.array(z.number())]);
export const propsOut = z.record(z.string(), propValueOut);
