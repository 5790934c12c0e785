/**
 * Pins keep an epoch readable past retention, for a TTL (for example one training run's
 * snapshot): `POST /v1/pins { epoch?, ttlMs }` and `DELETE /v1/pins/:id`.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_PIN_TTL_MS } from '../../partitions/epoch-ledger.js';
import { EpochgraphError } from '../../src/errors.js';
import { sendBody, sendNoContent } from '../encoding.js';
import { errorBody } from '../schemas.js';

const pinBody = z.strictObject({
  epoch: z
    .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.literal('latest')])
    .optional()
    .describe('the epoch to keep (default: the latest); the newest sealed epoch at or before it is pinned'),
  ttlMs: z.number().int().min(1).max(MAX_PIN_TTL_MS).describe('how long the pin lives, in ms'),
});

export const pinRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine } = app.epochgraph;

  app.post(
    '/v1/pins',
    {
      schema: {
        tags: ['pins'],
        summary: 'Pin an epoch so it stays readable until the pin is deleted or expires',
        body: pinBody,
        response: {
          201: z.object({ pin: z.string(), epoch: z.number(), expiresAt: z.string() }),
          400: errorBody,
          404: errorBody,
          410: errorBody,
        },
      },
    },
    async (req, reply) => {
      const { epoch, ttlMs } = req.body;
      const pin = machine.pin(epoch === 'latest' ? undefined : epoch, ttlMs);
      reply.header('x-epoch', String(pin.epoch));
      return sendBody(
        req,
        reply,
        { pin: pin.id, epoch: pin.epoch, expiresAt: new Date(pin.expiresAtMs).toISOString() },
        201,
      );
    },
  );

  app.delete(
    '/v1/pins/:id',
    {
      schema: {
        tags: ['pins'],
        summary: 'Delete a pin (its epoch leaves with the next retention pass if it is old enough)',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 204: z.null().describe('deleted'), 404: errorBody },
      },
    },
    async (req, reply) => {
      if (!machine.unpin(req.params.id))
        throw new EpochgraphError('NOT_FOUND', `no pin ${req.params.id} (never created, deleted or expired)`);
      return sendNoContent(req, reply);
    },
  );
};
