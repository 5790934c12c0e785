/**
 * Epochs: `GET /v1/epochs` (latest, oldest, epoch length, per-partition counts at the latest
 * epoch) and `GET /v1/epochs/:epoch` (when it was sealed and what it held; `latest` and
 * `?asOf=` work as on snapshot routes).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EpochInfo } from '../../partitions/epoch-ledger.js';
import { sendBody } from '../encoding.js';
import { resolveEpoch } from '../epoch-arg.js';
import { epochParams, errorBody, snapshotQuery } from '../schemas.js';

const partitionCounts = z.object({ partition: z.number(), vertices: z.number(), edges: z.number() });

const epochBody = z.object({
  epoch: z.number(),
  sealedAt: z.string().describe('ISO 8601'),
  vertices: z.number(),
  edges: z.number().describe('summed over partitions: an edge across two partitions counts twice'),
  partitions: z.array(partitionCounts),
});

function describeEpoch(i: EpochInfo) {
  return {
    epoch: i.epoch,
    sealedAt: new Date(i.sealedAtMs).toISOString(),
    vertices: i.vertices,
    edges: i.edges,
    partitions: i.partitions.map((p) => ({ partition: p.partition, vertices: p.vertices, edges: p.edges })),
  };
}

export const epochRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine } = app.epochgraph;

  app.get(
    '/v1/epochs',
    {
      schema: {
        tags: ['epochs'],
        summary: 'The latest and oldest readable epochs, and per-partition counts at the latest',
        response: {
          200: z.object({
            latest: z.number(),
            oldest: z.number(),
            epochMs: z.number(),
            retainMs: z.number(),
            latestSealedAt: z.string(),
            retained: z.number().describe('how many sealed epochs are readable'),
            partitions: z.array(partitionCounts.extend({ epoch: z.number() })),
          }),
        },
      },
    },
    async (req, reply) => {
      const latest = machine.latestEpoch;
      const info = machine.epochInfo(latest);
      reply.header('x-epoch', String(latest));
      return sendBody(req, reply, {
        latest,
        oldest: machine.oldestEpoch,
        epochMs: machine.epochMs,
        retainMs: machine.retainMs,
        latestSealedAt: new Date(info.sealedAtMs).toISOString(),
        retained: machine.epochs().length,
        partitions: info.partitions.map((p) => ({
          partition: p.partition,
          epoch: latest,
          vertices: p.vertices,
          edges: p.edges,
        })),
      });
    },
  );

  app.get(
    '/v1/epochs/:epoch',
    {
      schema: {
        tags: ['epochs'],
        summary: "An epoch's metadata (the newest sealed epoch at or before the one named)",
        params: epochParams,
        querystring: snapshotQuery,
        response: { 200: epochBody, 400: errorBody, 404: errorBody, 410: errorBody },
      },
    },
    async (req, reply) => {
      const info = resolveEpoch(machine, req.params.epoch, req.query.asOf);
      reply.header('x-epoch', String(info.epoch));
      return sendBody(req, reply, describeEpoch(info));
    },
  );
};
