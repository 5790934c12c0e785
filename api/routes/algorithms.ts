/**
 * Analytics over a snapshot: `POST /v1/snapshots/:epoch/algorithms/:name` runs one of the
 * LDBC Graphalytics algorithms in the analytics pool at that epoch (pinned for the run) and
 * answers `{ epoch, algorithm, ids, values }` as parallel arrays (typed arrays in msgpack).
 * Parameters go in the body and are validated by the service (zod, per algorithm). A client
 * that disconnects cancels its run.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALGORITHMS } from '../../src/analytics/index.js';
import { EpochgraphError } from '../../src/errors.js';
import { sendBody, wantsMsgpack } from '../encoding.js';
import { resolveEpoch } from '../epoch-arg.js';
import { errorBody } from '../schemas.js';

export const algorithmRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine, analytics } = app.epochgraph;

  app.post(
    '/v1/snapshots/:epoch/algorithms/:name',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Run a Graphalytics algorithm (bfs, pagerank, wcc, cdlp, lcc, sssp) over a snapshot',
        params: z.object({
          epoch: z.string().describe('an epoch number or `latest`'),
          name: z.enum(ALGORITHMS),
        }),
        querystring: z.object({
          asOf: z.string().optional().describe('ISO time: the newest epoch sealed at or before it'),
        }),
        body: z
          .record(z.string(), z.unknown())
          .optional()
          .describe(
            'parameters: bfs {source, direction}, pagerank {iterations, damping}, cdlp {iterations}, sssp {source, weight}; every algorithm {undirected, top}',
          ),
        response: {
          200: z.object({
            epoch: z.number(),
            algorithm: z.string(),
            ids: z.array(z.union([z.number(), z.string()])),
            values: z.array(z.union([z.number(), z.string(), z.null()])),
          }),
          400: errorBody,
          404: errorBody,
          410: errorBody,
          503: errorBody,
        },
      },
    },
    async (req, reply) => {
      if (analytics === undefined)
        throw new EpochgraphError('NOT_READY', 'this daemon runs no analytics pool');
      const info = resolveEpoch(machine, req.params.epoch, req.query.asOf);
      // Cancel the run when the client goes away (the response's close, not the request's:
      // on Node 20 the request emits close once its body has been read).
      const ac = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) ac.abort();
      });
      const params = req.body ?? {};
      const r = wantsMsgpack(req)
        ? await analytics.runTyped(req.params.name, params, info.epoch, { signal: ac.signal })
        : await analytics.run(req.params.name, params, info.epoch, { signal: ac.signal });
      reply.header('x-epoch', String(r.epoch));
      return sendBody(req, reply, { epoch: r.epoch, algorithm: r.algorithm, ids: r.ids, values: r.values });
    },
  );
};
