/**
 * Liveness and readiness. `GET /v1/health` answers while the process serves requests, with
 * the machine's state; `GET /v1/ready` answers 503 NOT_READY (with Retry-After) until the
 * daemon says it is ready and while the machine has stopped taking writes.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EpochgraphError } from '../../src/errors.js';
import { sendBody } from '../encoding.js';
import { errorBody } from '../schemas.js';

const healthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  writable: z.boolean(),
  failure: z.string().optional(),
  ready: z.boolean(),
  latestEpoch: z.number(),
  oldestEpoch: z.number(),
  partitions: z.number(),
  uptimeS: z.number(),
});

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const ctx = app.epochgraph;

  app.get(
    '/v1/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness, with the latest epoch and whether writes are accepted',
        response: { 200: healthBody.passthrough() },
      },
    },
    async (req, reply) => {
      const m = ctx.machine;
      const failure = m.failed;
      const body: Record<string, unknown> = {
        ...ctx.extraHealth(),
        status: failure === null ? 'ok' : 'degraded',
        writable: failure === null,
        ready: ctx.ready(),
        latestEpoch: m.latestEpoch,
        oldestEpoch: m.oldestEpoch,
        partitions: m.partitions,
        uptimeS: Math.round((Date.now() - ctx.startedAtMs) / 1000),
      };
      if (failure !== null) body.failure = failure.message;
      return sendBody(req, reply, body);
    },
  );

  app.get(
    '/v1/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 once recovery is done and writes are accepted, else 503 NOT_READY',
        response: { 200: z.object({ ready: z.literal(true), latestEpoch: z.number() }), 503: errorBody },
      },
    },
    async (req, reply) => {
      if (!ctx.ready())
        throw new EpochgraphError('NOT_READY', 'the daemon is not ready (recovering or shutting down)');
      const failure = ctx.machine.failed;
      if (failure !== null) throw new EpochgraphError('NOT_READY', `writes are stopped: ${failure.message}`);
      return sendBody(req, reply, { ready: true, latestEpoch: ctx.machine.latestEpoch });
    },
  );
};
