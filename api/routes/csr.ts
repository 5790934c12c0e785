/**
 * `GET /v1/snapshots/:epoch/partitions/:p/csr?direction=out|in&label=`: one partition's CSR at
 * an epoch, `{ epoch, partition, ids, offsets, neighbors }`, streamed (msgpack by default, JSON
 * when Accept asks for JSON only) so a large partition is never copied whole into one buffer.
 * Rows are the partition's vertices; neighbours are external ids (of any partition). In
 * msgpack, offsets is a Float64Array and so are ids and neighbours when every id is an integer.
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EpochgraphError } from '../../src/errors.js';
import { type CsrPlan, jsonCsr, msgpackCsr, msgpackLength, planCsr } from '../csr-export.js';
import { JSON_TYPE, MSGPACK, sendStream, wantsMsgpack } from '../encoding.js';
import { openSnapshot } from '../epoch-arg.js';
import { asOfArg, csrDirection, epochArg, label, snapshotErrors } from '../schemas.js';

/** msgpack unless the client accepts JSON and not msgpack. */
function exportAsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('json') && !wantsMsgpack(req);
}

export const csrExportRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine, limits } = app.epochgraph;

  app.get(
    '/v1/snapshots/:epoch/partitions/:p/csr',
    {
      // Timed until the stream ends (see ApiRouteConfig).
      config: { streamed: true },
      schema: {
        tags: ['snapshots'],
        summary: "A partition's CSR at an epoch, streamed (msgpack; JSON with Accept: application/json)",
        params: z.object({
          epoch: epochArg,
          p: z.string().regex(/^[0-9]{1,5}$/, 'must be a partition number'),
        }),
        querystring: z.object({
          asOf: asOfArg,
          direction: csrDirection.default('out'),
          label: label.optional().describe('only edges of this label'),
        }),
        response: {
          200: z
            .object({
              epoch: z.number(),
              partition: z.number(),
              ids: z.array(z.union([z.number(), z.string()])),
              offsets: z.array(z.number()),
              neighbors: z.array(z.union([z.number(), z.string()])),
            })
            .describe(
              'msgpack: offsets is a Float64Array, ids and neighbors too when every id is an integer',
            ),
          ...snapshotErrors,
        },
      },
    },
    async (req, reply) => {
      const p = Number(req.params.p);
      if (p >= machine.partitions) {
        throw new EpochgraphError(
          'NOT_FOUND',
          `partition ${p} does not exist (there are ${machine.partitions})`,
        );
      }
      const snap = openSnapshot(machine, req.params.epoch, req.query.asOf);
      let plan: CsrPlan;
      try {
        plan = await planCsr(snap, p, req.query.direction, req.query.label, {
          chunkBytes: limits.csrChunkBytes,
        });
      } catch (err) {
        snap.close();
        throw err;
      }
      const json = exportAsJson(req);
      const stream = Readable.from(json ? jsonCsr(plan) : msgpackCsr(plan), { objectMode: false });
      // The snapshot (a registered reader) lives as long as the stream: closed when it ends,
      // fails or the client goes away, even if it was never read.
      stream.once('close', () => snap.close());
      reply.header('x-epoch', String(snap.epoch));
      if (json) reply.type(JSON_TYPE);
      else {
        reply.type(MSGPACK);
        const length = msgpackLength(plan);
        if (length !== null) reply.header('content-length', String(length));
      }
      return sendStream(reply, stream);
    },
  );
};
