/**
 * The client's retry rule against real HTTP servers (no mocked fetch): a Fastify app that
 * answers 503 with Retry-After, drops connections or hangs on cue, and a real daemon whose
 * ingest queue is full. Reads are retried; writes only when they cannot have been applied.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../meta/free-port.js';
import { ConnectionError, EpochgraphClient, EpochgraphError } from '../../src/client/index.js';
import { unpackMsgpack } from '../../src/codec/msgpack.js';
import { startTestDaemon } from '../helpers/cli-daemon.js';

const EPOCHS = {
  latest: 3,
  oldest: 1,
  epochMs: 50,
  retainMs: 60000,
  latestSealedAt: '2025-01-01T00:00:00.000Z',
  retained: 3,
  partitions: [{ partition: 0, epoch: 3, vertices: 1, edges: 0 }],
};
const ACK = {
  epoch: 4,
  applied: { upsertedVertices: 0, deletedVertices: 0, upsertedEdges: 1, deletedEdges: 0 },
};

/** What the next requests to a route get, in order; then 200 with the route's body. */
type Cue = { status: number; code?: string; retryAfter?: string; details?: unknown } | 'drop' | 'hang';

let app: FastifyInstance;
let server: string;
const cues = new Map<string, Cue[]>();
const hits = new Map<string, number>();
const deletedPins = new Set<string>();
let lastBatch: unknown = null;

function cue(route: string, ...list: Cue[]): void {
  cues.set(route, list);
}

/** Answer by the cue for this route; true when it answered (or dropped). */
function byCue(route: string, reply: FastifyReply): boolean {
  hits.set(route, (hits.get(route) ?? 0) + 1);
  const c = cues.get(route)?.shift();
  if (c === undefined) return false;
  if (c === 'drop') {
    reply.raw.socket?.destroy();
    return true;
  }
  if (c === 'hang') return true;
  if (c.retryAfter !== undefined) reply.header('retry-after', c.retryAfter);
  reply.code(c.status);
  if (c.code === undefined) reply.type('text/html').send('<html>bad gateway</html>');
  else reply.send({ error: { code: c.code, message: `cue ${c.code}`, details: c.details ?? { cue: true } } });
  return true;
}

beforeAll(async () => {
  app = Fastify();
  // The client sends msgpack by default; this server reads it with the project's codec.
  app.addContentTypeParser('application/msgpack', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, unpackMsgpack(body as Buffer));
  });
  app.get('/v1/epochs', async (_req, reply) => {
    if (!byCue('epochs', reply)) return reply.send(EPOCHS);
    return reply;
  });
  app.post<{ Body: unknown }>('/v1/batches', async (req, reply) => {
    lastBatch = req.body;
    if (!byCue('batches', reply)) return reply.send(ACK);
    return reply;
  });
  app.post('/v1/pins', async (_req, reply) => {
    if (!byCue('pins', reply))
      return reply.code(201).send({ pin: 'p1', epoch: 3, expiresAt: '2025-01-01T00:00:00.000Z' });
    return reply;
  });
  app.delete<{ Params: { id: string } }>('/v1/pins/:id', async (req, reply) => {
    const first = !deletedPins.has(req.params.id);
    deletedPins.add(req.params.id);
    if (byCue('unpin', reply)) return reply;
    if (!first)
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no pin ${req.params.id}` } });
    return reply.code(204).send();
  });
  // A CSR export cut off mid-JSON: the server's bug, not a connection problem.
  app.get('/v1/snapshots/:epoch/partitions/:p/csr', async (_req, reply) => {
    hits.set('csr', (hits.get('csr') ?? 0) + 1);
    return reply.type('application/json').send('{"epoch":3,"ids":[1,2');
  });
  app.get('/v1/schema', async (_req, reply) =>
    reply.send({ epoch: 'three', vertexLabels: [], edgeLabels: [] }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  server = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});
afterEach(() => {
  cues.clear();
  hits.clear();
  deletedPins.clear();
});

const fast = { baseDelayMs: 10, maxDelayMs: 50 };

describe('retries against a real server', () => {
  it('waits what Retry-After asks on 503, then succeeds', async () => {
    cue(
      'epochs',
      { status: 503, code: 'NOT_READY', retryAfter: '1' },
      { status: 503, code: 'NOT_READY', retryAfter: '1' },
    );
    const client = new EpochgraphClient({ server });
    const t0 = performance.now();
    const e = await client.epochs();
    const ms = performance.now() - t0;
    expect(e.latest).toBe(3);
    expect(hits.get('epochs')).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(ms).toBeLessThan(2 * 1200 + 1000);
  });

  it('gives up after the attempts, with the server error rebuilt', async () => {
    cue('epochs', ...Array.from({ length: 10 }, () => ({ status: 503, code: 'NOT_READY' })));
    const client = new EpochgraphClient({ server, retry: { attempts: 3, ...fast } });
    const err = await client.epochs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochgraphError);
    expect(err).toMatchObject({
      code: 'NOT_READY',
      message: 'cue NOT_READY',
      details: { cue: true },
      status: 503,
    });
    expect(hits.get('epochs')).toBe(3);
  });

  it('does not wait for a Retry-After longer than maxRetryAfterMs', async () => {
    cue('epochs', { status: 503, code: 'NOT_READY', retryAfter: '120' });
    const client = new EpochgraphClient({ server, retry: { maxRetryAfterMs: 5000 } });
    const t0 = performance.now();
    await expect(client.epochs()).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(hits.get('epochs')).toBe(1);
  });

  it('retries reads on 502 and dropped connections', async () => {
    cue('epochs', { status: 502 }, 'drop');
    const client = new EpochgraphClient({ server, retry: fast });
    expect((await client.epochs()).latest).toBe(3);
    expect(hits.get('epochs')).toBe(3);
  });

  it('retries a read that timed out', async () => {
    cue('epochs', 'hang');
    const client = new EpochgraphClient({ server, retry: fast, timeoutMs: 300 });
    expect((await client.epochs()).latest).toBe(3);
    expect(hits.get('epochs')).toBe(2);
  });

  it('retries a batch on 503 NOT_READY (nothing was applied)', async () => {
    cue('batches', { status: 503, code: 'NOT_READY', retryAfter: '0' }, { status: 503, code: 'NOT_READY' });
    const client = new EpochgraphClient({ server, retry: fast });
    const ack = await client.submitBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2 }] });
    expect(ack.epoch).toBe(4);
    expect(hits.get('batches')).toBe(3);
    expect(lastBatch).toEqual({ ops: [{ op: 'upsertEdge', src: 1, dst: 2 }] });
  });

  it('never retries a batch that may have been applied', async () => {
    const client = new EpochgraphClient({ server, retry: fast, timeoutMs: 300 });
    const batch = { ops: [{ op: 'upsertEdge' as const, src: 1, dst: 2 }] };

    cue('batches', { status: 503, code: 'BACKUP_UNAVAILABLE' });
    await expect(client.submitBatch(batch)).rejects.toMatchObject({ code: 'BACKUP_UNAVAILABLE' });
    expect(hits.get('batches')).toBe(1);

    cue('batches', { status: 502 });
    await expect(client.submitBatch(batch)).rejects.toBeInstanceOf(EpochgraphError);
    expect(hits.get('batches')).toBe(2);

    cue('batches', 'drop');
    const dropped = await client.submitBatch(batch).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(ConnectionError);
    expect(dropped).toMatchObject({ mayHaveBeenApplied: true, attempts: 1 });
    expect(hits.get('batches')).toBe(3);

    cue('batches', {
      status: 503,
      code: 'NOT_READY',
      details: { reason: 'WRITES_STOPPED', mayHaveBeenApplied: true },
    });
    await expect(client.submitBatch(batch)).rejects.toMatchObject({
      code: 'NOT_READY',
      details: { mayHaveBeenApplied: true },
    });
    expect(hits.get('batches')).toBe(4);

    cue('batches', 'hang');
    const hung = await client.submitBatch(batch).catch((e: unknown) => e);
    expect(hung).toMatchObject({ name: 'ConnectionError', code: 'TIMEOUT', mayHaveBeenApplied: true });
    expect(hits.get('batches')).toBe(5);
  });

  it('retries a batch whose connection was refused (never sent), up to the attempts', async () => {
    const port = await findFreePort();
    const client = new EpochgraphClient({
      server: `http://127.0.0.1:${port}`,
      retry: { attempts: 3, ...fast },
    });
    const err = await client.submitBatch({ ops: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', attempts: 3, mayHaveBeenApplied: false });
  });

  it('creates pins like writes, and a lost DELETE answer counts as deleted on retry', async () => {
    const client = new EpochgraphClient({ server, retry: fast });
    cue('pins', { status: 503, code: 'NOT_READY' });
    expect((await client.createPin({ ttlMs: 1000 })).pin).toBe('p1');
    expect(hits.get('pins')).toBe(2);
    cue('pins', 'drop');
    await expect(client.createPin({ ttlMs: 1000 })).rejects.toMatchObject({ mayHaveBeenApplied: true });
    expect(hits.get('pins')).toBe(3);

    cue('unpin', 'drop'); // deleted, but the answer is lost
    await client.deletePin('p1');
    expect(hits.get('unpin')).toBe(2);
    await expect(client.deletePin('p1')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('refuses an answer that does not fit the route, naming the field', async () => {
    const client = new EpochgraphClient({ server });
    await expect(client.schema()).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('unexpected answer from GET /v1/schema: epoch:'),
    });
  });

  it('refuses a CSR export that is not valid JSON at once, as the server error it is (no retry)', async () => {
    const client = new EpochgraphClient({ server, encoding: 'json', retry: fast });
    await expect(client.partitionCsr(0)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('is not valid JSON'),
    });
    expect(hits.get('csr')).toBe(1);
  });

  it('an abort signal stops the waits between attempts', async () => {
    cue('epochs', { status: 503, code: 'NOT_READY', retryAfter: '10' });
    const client = new EpochgraphClient({ server });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 200);
    const t0 = performance.now();
    await expect(client.epochs({ signal: ac.signal })).rejects.toThrow('stop');
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('a real daemon whose ingest queue is full', () => {
  it('answers 503 NOT_READY with Retry-After, and batches retried by the client all land once', async () => {
    const d = await startTestDaemon({}, { machine: { maxQueuedBatches: 1, queueTimeoutMs: 1 } });
    try {
      const raw = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(`${d.server}/v1/batches`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ops: [{ op: 'upsertEdge', src: 1000 + i, dst: 1 }] }),
          }).then(async (r) => ({
            status: r.status,
            retryAfter: r.headers.get('retry-after'),
            body: await r.json(),
          })),
        ),
      );
      const refused = raw.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0].retryAfter).toBe('1');
      expect(refused[0].body).toMatchObject({ error: { code: 'NOT_READY' } });

      const client = new EpochgraphClient({ server: d.server, retry: { attempts: 30 } });
      const acks = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          client.submitBatch({ ops: [{ op: 'upsertEdge', src: i, dst: 0 }] }),
        ),
      );
      expect(acks.every((a) => a.applied.upsertedEdges === 1)).toBe(true);
      const into0 = await client.neighbors(0, { direction: 'in', limit: 1000 });
      expect([...into0.neighbors].sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
    } finally {
      await d.close();
    }
  });
});
