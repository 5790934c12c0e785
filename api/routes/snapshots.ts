/**
 * Reads of one retained snapshot: a vertex, its neighbours (paged), neighbours of many
 * vertices as CSR rows in request order, and a k-hop subgraph. Every answer carries `epoch`
 * and `X-Epoch` (the sealed epoch read); `:epoch` is a number or `latest`, and `?asOf=` picks
 * the newest epoch sealed at or before a time. Each request opens a snapshot (registering a
 * reader, so its epoch cannot be reclaimed) and closes it when the answer is built.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EpochgraphError } from '../../src/errors.js';
import { checkIdColumn, type ExternalId, parsePathId } from '../../src/model/ids.js';
import { batchNeighborRows } from '../../src/storage/index.js';
import { idColumn, sendBody, sendPacked, wantsMsgpack } from '../encoding.js';
import { openSnapshot, resolveEpoch } from '../epoch-arg.js';
import { subgraphOf } from '../heavy-reads.js';
import { smallNeighborList } from '../owner-reads.js';
import {
  asOfArg,
  direction,
  epochArg,
  errorBody,
  idColumnOut,
  idList,
  label,
  numberColumn,
  propsOut,
  snapshotErrors,
} from '../schemas.js';

const ID_TYPES = ['auto', 'string'] as const;

const vertexParams = z.object({ epoch: epochArg, id: z.string().min(1).max(1024) });
const idTypeArg = z
  .enum(ID_TYPES)
  .optional()
  .describe('"string" makes an all-digits :id a string id (default: digits are an integer id)');

function vertexNotFound(id: ExternalId, epoch: number): EpochgraphError {
  return new EpochgraphError(
    'VERTEX_NOT_FOUND',
    `vertex ${JSON.stringify(id)} does not exist at epoch ${epoch}`,
    {
      id,
      epoch,
    },
  );
}

/** Check an id list from a body: its length against the limit, then every id. */
function checkIds(ids: ArrayLike<ExternalId>, where: string, max: number): void {
  if (ids.length > max) {
    throw new EpochgraphError('TOO_LARGE', `${where}: ${ids.length} ids; at most ${max} per request`, {
      max,
      got: ids.length,
    });
  }
  checkIdColumn(ids, where);
}

/**
 * An id column that owns its memory, for a message to another thread: a typed array decoded
 * from msgpack may be a view of the whole request body, which a structured clone would copy.
 */
function ownColumn(ids: ArrayLike<number> | ExternalId[]): Float64Array | ExternalId[] {
  if (Array.isArray(ids)) return ids;
  return ids instanceof Float64Array ? ids.slice() : Float64Array.from(ids as ArrayLike<number>);
}

function commaList(s: string | undefined): string[] | undefined {
  if (s === undefined) return undefined;
  const names = s.split(',').filter((x) => x.length > 0);
  return names.length === 0 ? undefined : names;
}

export const snapshotRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine, limits, owners, analytics, metrics } = app.epochgraph;

  app.get(
    '/v1/snapshots/:epoch/vertices/:id',
    {
      schema: {
        tags: ['snapshots'],
        summary: 'One vertex at an epoch: label, properties and degrees',
        params: vertexParams,
        querystring: z.object({ asOf: asOfArg, idType: idTypeArg }),
        response: {
          200: z.object({
            epoch: z.number(),
            id: z.union([z.number(), z.string()]),
            label: z.string(),
            props: propsOut,
            outDegree: z.number(),
            inDegree: z.number(),
            createdEpoch: z.number().describe('the epoch at which the vertex was (last) created'),
          }),
          ...snapshotErrors,
        },
      },
    },
    async (req, reply) => {
      const id = parsePathId(req.params.id, req.query.idType === 'string');
      const epoch = resolveEpoch(machine, req.params.epoch, req.query.asOf).epoch;
      const body = owners.read(epoch, id, (s) => {
        const lid = s.lookup(id);
        const v = lid < 0 ? null : s.vertex(id);
        if (v === null) throw vertexNotFound(id, epoch);
        return {
          epoch,
          id: v.id,
          label: v.label,
          props: v.props,
          outDegree: s.degree(lid, 'out'),
          inDegree: s.degree(lid, 'in'),
          createdEpoch: v.createdEpoch,
        };
      });
      reply.header('x-epoch', String(epoch));
      return sendBody(req, reply, body);
    },
  );

  app.get(
    '/v1/snapshots/:epoch/vertices/:id/neighbors',
    {
      schema: {
        tags: ['snapshots'],
        summary:
          "A page of a vertex's neighbours (out-neighbours first for both), with optional edge properties",
        params: vertexParams,
        querystring: z.object({
          asOf: asOfArg,
          idType: idTypeArg,
          direction: direction.default('out'),
          label: label.optional().describe('only edges of this label'),
          limit: z.coerce
            .number()
            .int()
            .min(1)
            .max(limits.maxNeighborsPerPage)
            .default(limits.defaultNeighborsPerPage),
          cursor: z.string().min(1).max(512).optional().describe('nextCursor of the previous page'),
          props: z.string().max(8192).optional().describe('edge properties to return, comma-separated'),
        }),
        response: {
          200: z.object({
            epoch: z.number(),
            id: z.union([z.number(), z.string()]),
            neighbors: idColumnOut,
            directions: z
              .array(z.enum(['out', 'in']))
              .optional()
              .describe('with direction=both'),
            props: z.array(propsOut).optional().describe('edge properties, parallel to neighbors'),
            nextCursor: z.string().optional(),
          }),
          ...snapshotErrors,
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const id = parsePathId(req.params.id, q.idType === 'string');
      const props = commaList(q.props);
      const epoch = resolveEpoch(machine, req.params.epoch, q.asOf).epoch;
      const msgpack = wantsMsgpack(req);
      // The common case (no cursor, no edge properties, a list that fits one page) reads only
      // the owner partition; everything else pages through GraphSnapshot.neighbors.
      if (q.cursor === undefined && props === undefined) {
        const list = owners.read(epoch, id, (s) => {
          const lid = s.lookup(id);
          if (lid < 0) throw vertexNotFound(id, epoch);
          const labelIdx = q.label === undefined ? -1 : s.edgeLabelIndex(q.label);
          if (q.label !== undefined && labelIdx < 0) return { neighbors: [], directions: [] };
          return smallNeighborList(s, lid, q.direction, labelIdx, q.limit);
        });
        if (list !== null) {
          const body: Record<string, unknown> = {
            epoch,
            id,
            neighbors: msgpack ? idColumn(list.neighbors) : list.neighbors,
          };
          if (q.direction === 'both') body.directions = list.directions;
          reply.header('x-epoch', String(epoch));
          return sendBody(req, reply, body);
        }
      }
      const snap = machine.snapshot(epoch);
      try {
        const page = snap.neighbors(id, {
          direction: q.direction,
          label: q.label,
          limit: q.limit,
          cursor: q.cursor,
          props,
        });
        if (page === null) throw vertexNotFound(id, snap.epoch);
        const body: Record<string, unknown> = {
          epoch: snap.epoch,
          id,
          neighbors: msgpack ? idColumn(page.neighbors) : page.neighbors,
        };
        if (q.direction === 'both') body.directions = page.directions;
        if (page.props !== undefined) body.props = page.props;
        if (page.nextCursor !== undefined) body.nextCursor = page.nextCursor;
        reply.header('x-epoch', String(snap.epoch));
        return sendBody(req, reply, body);
      } finally {
        snap.close();
      }
    },
  );

  app.post(
    '/v1/snapshots/:epoch/neighbors',
    {
      schema: {
        tags: ['snapshots'],
        summary:
          'Neighbours of many vertices as CSR rows in request order; ids that are not vertices are listed in missing',
        params: z.object({ epoch: epochArg }),
        querystring: z.object({ asOf: asOfArg }),
        body: z.strictObject({
          ids: idList(Number.MAX_SAFE_INTEGER),
          direction: direction.default('out'),
          label: label.optional(),
        }),
        response: {
          200: z.object({
            epoch: z.number(),
            offsets: numberColumn.describe(
              'row i is neighbors[offsets[i] .. offsets[i+1]); Float64Array in msgpack',
            ),
            neighbors: idColumnOut,
            missing: numberColumn.describe('indices (into ids) of ids that are not vertices at this epoch'),
          }),
          413: errorBody,
          ...snapshotErrors,
        },
      },
    },
    async (req, reply) => {
      const { ids, direction: dir, label: lbl } = req.body;
      checkIds(ids, 'ids', limits.maxBatchIds);
      const snap = openSnapshot(machine, req.params.epoch, req.query.asOf);
      try {
        // Big reads go to the read pool (other cores; this thread stays free for requests)
        // while this snapshot keeps their epoch open; small ones cost less here than a hop.
        const pool =
          analytics !== undefined && analytics.readWorkers > 0 && ids.length >= limits.readPoolMinIds
            ? analytics
            : undefined;
        // A msgpack answer from the pool comes packed, in a buffer sent as it is (encoding.ts
        // sendPacked): nothing of its size is allocated in this thread.
        if (pool?.packedNeighborRows !== undefined && wantsMsgpack(req)) {
          const packed = await pool.packedNeighborRows(snap.epoch, ownColumn(ids), dir, lbl, limits);
          metrics.countBatchRead(true);
          reply.header('x-epoch', String(snap.epoch));
          return sendPacked(req, reply, packed);
        }
        const rows =
          pool !== undefined
            ? await pool.neighborRows(snap.epoch, ownColumn(ids), dir, lbl, limits)
            : await batchNeighborRows(snap, ids, dir, lbl, limits);
        metrics.countBatchRead(pool !== undefined);
        reply.header('x-epoch', String(snap.epoch));
        return sendBody(req, reply, {
          epoch: snap.epoch,
          offsets: rows.offsets,
          neighbors: rows.neighbors,
          missing: rows.missing,
        });
      } finally {
        snap.close();
      }
    },
  );

  app.post(
    '/v1/snapshots/:epoch/subgraph',
    {
      schema: {
        tags: ['snapshots'],
        summary:
          'The k-hop neighbourhood of seeds (breadth-first, at most maxVertices) and the edges among it',
        params: z.object({ epoch: epochArg }),
        querystring: z.object({ asOf: asOfArg }),
        body: z.strictObject({
          seeds: idList(Number.MAX_SAFE_INTEGER),
          hops: z.number().int().min(0).max(limits.maxSubgraphHops).default(1),
          direction: direction.default('out'),
          maxVertices: z
            .number()
            .int()
            .min(1)
            .max(limits.maxSubgraphVertices)
            .default(limits.maxSubgraphVertices),
        }),
        response: {
          200: z.object({
            epoch: z.number(),
            vertices: idColumnOut,
            edges: z.object({ src: idColumnOut, dst: idColumnOut }),
            truncated: z.boolean().describe('true when maxVertices stopped the expansion'),
          }),
          413: errorBody,
          ...snapshotErrors,
        },
      },
    },
    async (req, reply) => {
      const { seeds, hops, direction: dir, maxVertices } = req.body;
      checkIds(seeds, 'seeds', limits.maxBatchIds);
      const snap = openSnapshot(machine, req.params.epoch, req.query.asOf);
      try {
        const g = await subgraphOf(snap, seeds, hops, dir, maxVertices, limits);
        reply.header('x-epoch', String(snap.epoch));
        return sendBody(req, reply, {
          epoch: snap.epoch,
          vertices: g.vertices,
          edges: { src: g.src, dst: g.dst },
          truncated: g.truncated,
        });
      } finally {
        snap.close();
      }
    },
  );
};
