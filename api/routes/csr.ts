/**
 * `GET /v1/snapshots/:epoch/partitions/:p/csr?direction=out|in&label=`: one partition's CSR at
 * an epoch, `{ epoch, partition, ids, offsets, neighbors }`, streamed (msgpack by default, JSON
 * when Accept asks for JSON only) so a large partition is never copied whole into one buffer.
 * Rows are the partition's vertices; neighbours are external ids (of any partition). In
 * msgpack, offsets is a Float64Array and so are ids and neighbours when every id is an integer.
 *
 * The msgpack answer is written to the response directly (reply.hijack), not through a
 * Readable, so that each chunk buffer can go back to the route's ChunkBuffers once the socket
 * has its bytes (chunk-buffers.ts). Errors before the first byte still answer in the error
 * shape; an error after it can only cut the answer short (the socket is destroyed, so the
 * client sees fewer bytes than Content-Length), and is logged.
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EpochgraphError } from '../../src/errors.js';
import { ChunkBuffers, writeParts } from '../chunk-buffers.js';
import { jsonCsr, msgpackCsr, msgpackLength } from '../csr-export.js';
import { type CsrPlan, CsrPlans, planCsr, releasePlan } from '../csr-plan.js';
import { JSON_TYPE, MSGPACK, sendStream, wantsMsgpack } from '../encoding.js';
import { openSnapshot } from '../epoch-arg.js';
import { asOfArg, csrDirection, epochArg, label, snapshotErrors } from '../schemas.js';

/** msgpack unless the client accepts JSON and not msgpack. */
function exportAsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('json') && !wantsMsgpack(req);
}

/** Bytes of chunk buffers the route keeps for reuse between exports. */
const KEPT_BUFFER_BYTES = 64 * 1024 * 1024;

export const csrExportRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine, limits, metrics } = app.epochgraph;
  const buffers = new ChunkBuffers(KEPT_BUFFER_BYTES);
  const take = (n: number) => buffers.take(n);
  // Counted rows of recent exports, shared by both formats (see csr-plan.ts).
  const plans = new CsrPlans(limits.csrPlanCacheBytes, () => machine.oldestEpoch);

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
      const json = exportAsJson(req);
      let plan: CsrPlan;
      try {
        plan = await planCsr(snap, p, req.query.direction, req.query.label, {
          chunkBytes: limits.csrChunkBytes,
          alloc: json ? undefined : take,
          plans,
        });
      } catch (err) {
        snap.close();
        throw err;
      }
      metrics.countCsrExport(plan.counted);
      reply.header('x-epoch', String(snap.epoch));
      if (json) {
        const stream = Readable.from(jsonCsr(plan), { objectMode: false });
        // The snapshot (a registered reader) lives as long as the stream: closed when it ends,
        // fails or the client goes away, even if it was never read.
        stream.once('close', () => snap.close());
        reply.type(JSON_TYPE);
        return sendStream(reply, stream);
      }
      reply.type(MSGPACK);
      const length = msgpackLength(plan);
      if (length !== null) reply.header('content-length', String(length));
      reply.hijack();
      const res = reply.raw;
      try {
        // The headers set on the reply (fastify sends none itself once hijacked).
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) res.setHeader(name, value);
        }
        res.writeHead(200);
        if (await writeParts(res, msgpackCsr(plan), buffers)) releasePlan(plan, buffers);
      } catch (err) {
        req.log.error({ err }, 'CSR export failed after its first byte; the answer is cut short');
        res.destroy();
      } finally {
        snap.close();
      }
      return reply;
    },
  );
};
