/**
 * HTTP API benchmark: a real machine (P = 2 partition workers, WAL in a temp dir) with the
 * API app on a loopback port, driven by autocannon. Four figures, each next to what bounds it:
 *
 * - neighborGetRatio: single-vertex neighbour GET req/s divided by a bare Fastify route's
 *   req/s (same process, same port kind, same load generator, same run; alternated rounds).
 * - batchNeighborIdsPerSec: neighbour ids answered per second by `POST .../neighbors` in
 *   msgpack (typed arrays both ways), read in the read pool as the daemon does (one thread per
 *   core; `readWorkers`). Next to it: the same figure with the read on the main thread; the
 *   same request answered from a plain static CSR through the same Fastify; and the same
 *   request in process with no HTTP, by the store and by that plain CSR (batch-floor.ts).
 * - csrExportBytesPerSec: bytes per second of the streamed msgpack CSR export of a partition,
 *   exported again and again at one epoch (its rows counted once, csr-plan.ts). Next to it,
 *   csrExportBytesPerSecCounted: the same with the rows counted at every export.
 * - httpIngestEdgesPerSec: edges per second through `POST /v1/batches` in the msgpack
 *   columnar form, each acknowledged only once durable (fsync) and visible.
 *
 * The load generator runs in a worker thread (autocannon `workers: 1`) for the read figures,
 * so it does not share the server's event loop; the CSR export is read by plain node:http
 * clients in a worker (autocannon's body parsing is slower than the export); the ingest run
 * POSTs distinct pre-built bodies from a worker thread too (it used to run autocannon on the
 * server's own event loop and took CPU from the server: 0.75M edges/s then, 0.84M/s now).
 * The load clients themselves are in load-clients.ts. Targets (DESIGN §10): ratio ≥ 0.8,
 * ≥ 20 M ids/s, ≥ 1 GB/s, ≥ 1 M edges/s.
 *
 * Run: `npm run bench -- api` (or `node dist/bench/api.js [--quick]` after `npm run build`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { registerBodyParsers, sendPacked } from '../api/encoding.js';
import { Machine } from '../partitions/machine.js';
import { AnalyticsService } from '../src/analytics/index.js';
import { AnswerSlots, packIntoSlot } from '../src/codec/answer-slots.js';
import { packMsgpack, unpackMsgpack } from '../src/codec/msgpack.js';
import { decodeBatch } from '../src/model/ops.js';
import { batchFloor, type PlainCsr, plainCsrOf } from './batch-floor.js';
import { BINARY_BODY_SETUP, type Cannon, cannon, check, drain, postAll } from './load-clients.js';
import { report, rng, settled } from './report.js';

interface Sizes {
  vertices: number;
  edges: number;
  seconds: number;
  rounds: number;
  roundSeconds: number;
  ingestBodies: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const INGEST_EDGES_PER_BODY = 50_000;
const BATCH_IDS = 4096;

function bytes(v: unknown): Buffer {
  const b = packMsgpack(v);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Load a random graph through the machine (not HTTP): `edges` edges over `vertices` ids. */
async function loadGraph(machine: Machine, s: Sizes): Promise<number> {
  const next = rng(7);
  const per = 500_000;
  let epoch = 0;
  for (let done = 0; done < s.edges; done += per) {
    const n = Math.min(per, s.edges - done);
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      src[i] = next(s.vertices);
      dst[i] = next(s.vertices);
    }
    epoch = (await machine.submit(decodeBatch({ edges: { src, dst } }))).epoch;
  }
  return epoch;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** Runs the API benchmark; returns the figures written to bench/results/api.json. */
export async function run({ quick }: { quick: boolean }): Promise<Record<string, number>> {
  const s: Sizes = quick
    ? { vertices: 20_000, edges: 200_000, seconds: 3, rounds: 5, roundSeconds: 1, ingestBodies: 24 }
    : { vertices: 200_000, edges: 2_000_000, seconds: 8, rounds: 15, roundSeconds: 2, ingestBodies: 120 };
  const dir = await mkdtemp(join(tmpdir(), 'epochgraph-bench-api-'));
  const machine = await Machine.open({ dataDir: join(dir, 'data'), partitions: 2 });
  // The daemon's read pool: batch reads of 256 ids or more run in these threads.
  const readWorkers = cpus().length;
  const service = new AnalyticsService({ descriptors: machine.descriptors(), poolSize: 1, readWorkers });
  const app = await buildApp({ machine, logger: false, analytics: service });
  // The same routes with every read on the main thread (no read pool), and every CSR export
  // counting its rows afresh (no kept counts, csr-plan.ts), for comparison.
  const mainOnly = await buildApp({ machine, logger: false, limits: { csrPlanCacheBytes: 1 } });
  const bare = Fastify({ logger: false });
  try {
    const loadedEpoch = await loadGraph(machine, s);
    // Reads are measured on the settled store: after a load stops, idle compaction seals a few
    // epochs that lay the lists out in vertex order (what a store at rest looks like).
    const settleStart = performance.now();
    const epoch = await settled(machine, 300);
    const settleMs = performance.now() - settleStart;
    const base = await listen(app);

    // --- single-vertex neighbour GET vs a bare Fastify route ------------------------------
    // A vertex of typical degree; the bare route answers a body of the same shape and size.
    const probe = machine.snapshot(epoch);
    let vertex = 0;
    let sample: (number | string)[] = [];
    const mean = (2 * s.edges) / s.vertices;
    try {
      for (let v = 0; v < s.vertices; v++) {
        const page = probe.neighbors(v, { direction: 'out' });
        if (page !== null && Math.abs(page.neighbors.length - mean / 2) <= 1) {
          vertex = v;
          sample = page.neighbors;
          break;
        }
      }
    } finally {
      probe.close();
    }
    bare.get('/bare/:id/neighbors', async (req) => ({
      epoch,
      id: Number((req.params as { id: string }).id),
      neighbors: sample,
    }));
    // A reference for this request over HTTP: a plain static CSR copy of the same snapshot
    // answering the same body on the bare Fastify instance (same msgpack codec, same load
    // generator), in the same run.
    const plainSnap = machine.snapshot(epoch);
    let plain: PlainCsr;
    try {
      plain = plainCsrOf(plainSnap, BATCH_IDS);
    } finally {
      plainSnap.close();
    }
    registerBodyParsers(bare);
    // It sends the way the store's route does for the read pool: packed into a shared slot
    // that is reused once the answer is written out (api/encoding.ts sendPacked), so neither
    // side allocates an answer-sized buffer per request.
    const plainSlots = new AnswerSlots(8);
    bare.post('/bare/neighbors', async (req, reply) => {
      const q = (req.body as { ids: Float64Array }).ids;
      const count = plain.rows(q);
      const slot = plainSlots.take();
      const bytes = packIntoSlot(slot.buffer, {
        epoch,
        offsets: plain.offsets.subarray(0, q.length + 1),
        neighbors: plain.neighbors(count),
        missing: new Float64Array(0),
      });
      return sendPacked(req, reply, { bytes, release: slot.release });
    });
    const bareBase = await listen(bare);
    // Short rounds, alternated, after a warm-up of both: on a shared box the load drifts, so
    // each API round is compared with the bare round next to it and the median ratio is kept.
    // Main-thread time per request (event-loop utilization; the load generator runs in its
    // own thread) is reported next to it.
    const apiUrl = `${base}/v1/snapshots/latest/vertices/${vertex}/neighbors`;
    const bareUrl = `${bareBase}/bare/${vertex}/neighbors`;
    const getOpts = { connections: 32, workers: 1 };
    await cannon({ ...getOpts, url: apiUrl, duration: 2 });
    await cannon({ ...getOpts, url: bareUrl, duration: 2 });
    const apiRuns: Cannon[] = [];
    const bareRuns: Cannon[] = [];
    for (let round = 0; round < s.rounds; round++) {
      bareRuns.push(await cannon({ ...getOpts, url: bareUrl, duration: s.roundSeconds }));
      apiRuns.push(await cannon({ ...getOpts, url: apiUrl, duration: s.roundSeconds }));
    }
    for (const c of [...apiRuns, ...bareRuns]) check('neighbour GET', c);
    const neighborGetRatio = median(apiRuns.map((c, i) => c.reqPerSec / bareRuns[i].reqPerSec));
    const neighborGetReqPerSec = median(apiRuns.map((c) => c.reqPerSec));
    const bareReqPerSec = median(bareRuns.map((c) => c.reqPerSec));
    const neighborGetMainUsPerReq = median(apiRuns.map((c) => c.mainUsPerRequest));
    const bareMainUsPerReq = median(bareRuns.map((c) => c.mainUsPerRequest));

    // --- batch neighbours, msgpack ----------------------------------------------------------
    const pick = rng(11);
    const ids = new Float64Array(BATCH_IDS);
    for (let i = 0; i < BATCH_IDS; i++) ids[i] = pick(s.vertices);
    const batchBody = bytes({ ids, direction: 'out' });
    const msgpackHeaders = { 'content-type': 'application/msgpack', accept: 'application/msgpack' };
    const one = await fetch(`${base}/v1/snapshots/${epoch}/neighbors`, {
      method: 'POST',
      headers: msgpackHeaders,
      body: batchBody,
    });
    const answer = unpackMsgpack(new Uint8Array(await one.arrayBuffer())) as { neighbors: Float64Array };
    const neighborsPerAnswer = answer.neighbors.length;
    const batchUrl = `${base}/v1/snapshots/${epoch}/neighbors`;
    const batchRequest = { method: 'POST', headers: msgpackHeaders, body: batchBody };
    await drain(batchUrl, 4, 2000, batchRequest);
    const batch = await drain(batchUrl, 4, s.seconds * 1000, batchRequest);
    const mainBase = await listen(mainOnly);
    const mainBatchUrl = `${mainBase}/v1/snapshots/${epoch}/neighbors`;
    await drain(mainBatchUrl, 4, 1000, batchRequest);
    const mainBatch = await drain(mainBatchUrl, 4, Math.min(4, s.seconds) * 1000, batchRequest);
    // The same requests through autocannon, for reference (its workers get the binary body
    // back as a Buffer through a setupRequest module).
    const setupBinary = join(dir, 'binary-body.cjs');
    await writeFile(setupBinary, BINARY_BODY_SETUP);
    const batchCannon = await cannon({
      url: base,
      connections: 4,
      duration: Math.min(4, s.seconds),
      workers: 1,
      requests: [
        {
          method: 'POST',
          path: `/v1/snapshots/${epoch}/neighbors`,
          headers: msgpackHeaders,
          body: batchBody,
          setupRequest: setupBinary as unknown as autocannon.Request['setupRequest'],
        },
      ],
    });
    check('batch neighbours', batchCannon);
    const bareBatchUrl = `${bareBase}/bare/neighbors`;
    const plainAnswer = unpackMsgpack(
      new Uint8Array(await (await fetch(bareBatchUrl, batchRequest)).arrayBuffer()),
    ) as { neighbors: Float64Array };
    if (plainAnswer.neighbors.length !== neighborsPerAnswer)
      throw new Error('the plain CSR route answers differently');
    await drain(bareBatchUrl, 4, 1000, batchRequest);
    const plainBatch = await drain(bareBatchUrl, 4, Math.min(4, s.seconds) * 1000, batchRequest);
    // The same ids in this process, no HTTP: the store against a plain CSR copy (batch-floor.ts).
    const floorSnap = machine.snapshot(epoch);
    const floor = await batchFloor(
      floorSnap,
      plain,
      ids,
      app.epochgraph.limits,
      quick ? 3 : 9,
      quick ? 300 : 700,
    ).finally(() => floorSnap.close());

    // --- CSR export, msgpack stream ---------------------------------------------------------
    // autocannon parses every body byte in JavaScript and tops out far below what the server
    // streams, so the figure comes from plain node:http clients in a worker thread that count
    // and drop the bytes; autocannon's own figure is reported next to it.
    // The same export from the app that keeps no counted rows, in alternated rounds: what an
    // export of a snapshot exported for the first time gets.
    const csrUrl = `${base}/v1/snapshots/${epoch}/partitions/0/csr`;
    const csrCountedUrl = `${mainBase}/v1/snapshots/${epoch}/partitions/0/csr`;
    await drain(csrUrl, 2, 2000);
    await drain(csrCountedUrl, 2, 1000);
    const csr = { bytes: 0, requests: 0, seconds: 0 };
    const csrCounted = { bytes: 0, requests: 0, seconds: 0 };
    for (let r = 0; r < 4; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const d = await drain(i === 0 ? csrUrl : csrCountedUrl, 2, s.seconds * 250);
        const acc = i === 0 ? csr : csrCounted;
        acc.bytes += d.bytes;
        acc.requests += d.requests;
        acc.seconds += d.seconds;
      }
    }
    const csrCannon = await cannon({
      url: csrUrl,
      headers: { accept: 'application/msgpack' },
      connections: 2,
      duration: Math.min(4, s.seconds),
      workers: 1,
    });
    check('CSR export', csrCannon);
    const csrAnswerBytes = csr.bytes / Math.max(1, csr.requests);

    // --- durable ingest, msgpack columnar ---------------------------------------------------
    // Distinct new edges per body (fresh vertex ids above the loaded graph).
    const bodies: Buffer[] = [];
    const gen = rng(13);
    let nextId = s.vertices;
    for (let b = 0; b < s.ingestBodies; b++) {
      const src = new Float64Array(INGEST_EDGES_PER_BODY);
      const dst = new Float64Array(INGEST_EDGES_PER_BODY);
      for (let i = 0; i < INGEST_EDGES_PER_BODY; i++) {
        src[i] = nextId + gen(INGEST_EDGES_PER_BODY);
        dst[i] = nextId + INGEST_EDGES_PER_BODY + gen(INGEST_EDGES_PER_BODY);
      }
      nextId += 2 * INGEST_EDGES_PER_BODY;
      bodies.push(bytes({ edges: { src, dst } }));
    }
    const edgesBefore = machine.epochInfo(machine.latestEpoch).edges;
    const ingest = await postAll(`${base}/v1/batches`, 8, msgpackHeaders, bodies);
    const ingestedEdges = ingest.ok * INGEST_EDGES_PER_BODY;
    const edgesAfter = machine.epochInfo(machine.latestEpoch).edges;

    const batchNeighborIdsPerSec = (batch.requests * neighborsPerAnswer) / batch.seconds;
    const batchNeighborPlainCsrHttpIdsPerSec =
      (plainBatch.requests * neighborsPerAnswer) / plainBatch.seconds;
    const batchNeighborIdsPerSecMainThread = (mainBatch.requests * neighborsPerAnswer) / mainBatch.seconds;
    const batchNeighborIdsPerSecAutocannon =
      (batchCannon.requests * neighborsPerAnswer) / batchCannon.seconds;
    const csrExportBytesPerSec = csr.bytes / csr.seconds;
    const csrExportBytesPerSecCounted = csrCounted.bytes / csrCounted.seconds;
    const csrExportBytesPerSecAutocannon = csrCannon.bytes / csrCannon.seconds;
    const httpIngestEdgesPerSec = ingestedEdges / ingest.seconds;
    return report(
      'api',
      [
        { metric: 'neighborGetRatio', value: neighborGetRatio, target: '≥ 0.8', ok: neighborGetRatio >= 0.8 },
        { metric: 'neighborGetReqPerSec', value: neighborGetReqPerSec, unit: 'req/s' },
        { metric: 'bareFastifyReqPerSec', value: bareReqPerSec, unit: 'req/s' },
        { metric: 'neighborGetMainUsPerReq', value: neighborGetMainUsPerReq, unit: 'µs' },
        { metric: 'bareFastifyMainUsPerReq', value: bareMainUsPerReq, unit: 'µs' },
        { metric: 'neighborGetRounds', value: s.rounds },
        {
          metric: 'batchNeighborIdsPerSec',
          value: batchNeighborIdsPerSec,
          unit: 'ids/s',
          target: '≥ 20M',
          ok: batchNeighborIdsPerSec >= 20e6,
        },
        { metric: 'batchNeighborReqPerSec', value: batch.reqPerSec, unit: 'req/s' },
        { metric: 'batchNeighborReadWorkers', value: readWorkers },
        {
          metric: 'batchNeighborIdsPerSecMainThread',
          value: batchNeighborIdsPerSecMainThread,
          unit: 'ids/s',
        },
        {
          metric: 'batchNeighborPlainCsrHttpIdsPerSec',
          value: batchNeighborPlainCsrHttpIdsPerSec,
          unit: 'ids/s',
        },
        {
          metric: 'batchNeighborVsPlainCsrHttp',
          value: batchNeighborIdsPerSec / batchNeighborPlainCsrHttpIdsPerSec,
          unit: '×',
        },
        { metric: 'batchNeighborInProcessIdsPerSec', value: floor.storeIdsPerSec, unit: 'ids/s' },
        { metric: 'batchNeighborPlainCsrIdsPerSec', value: floor.floorIdsPerSec, unit: 'ids/s' },
        { metric: 'batchNeighborStoreVsPlainCsr', value: floor.storeVsFloor, unit: '×' },
        { metric: 'batchNeighborIdsPerAnswer', value: neighborsPerAnswer },
        {
          metric: 'batchNeighborIdsPerSecAutocannon',
          value: batchNeighborIdsPerSecAutocannon,
          unit: 'ids/s',
        },
        {
          metric: 'csrExportBytesPerSec',
          value: csrExportBytesPerSec,
          unit: 'B/s',
          target: '≥ 1G',
          ok: csrExportBytesPerSec >= 1e9,
        },
        { metric: 'csrExportBytesPerAnswer', value: csrAnswerBytes, unit: 'B' },
        { metric: 'csrExportBytesPerSecCounted', value: csrExportBytesPerSecCounted, unit: 'B/s' },
        { metric: 'csrExportBytesPerSecAutocannon', value: csrExportBytesPerSecAutocannon, unit: 'B/s' },
        {
          metric: 'httpIngestEdgesPerSec',
          value: httpIngestEdgesPerSec,
          unit: 'edges/s',
          target: '≥ 1M',
          ok: httpIngestEdgesPerSec >= 1e6,
        },
        // Stored edge entries gained (each new edge is stored at both endpoints' partitions).
        { metric: 'ingestStoredEdgesGained', value: edgesAfter - edgesBefore },
        { metric: 'ingestEdgesSent', value: ingestedEdges },
        { metric: 'graphVertices', value: s.vertices },
        { metric: 'graphEdges', value: s.edges },
        { metric: 'idleCompactionEpochs', value: epoch - loadedEpoch },
        { metric: 'idleCompactionSettleMs', value: settleMs, unit: 'ms' },
        { metric: 'cpus', value: cpus().length },
      ],
      { quick: quick ? 1 : 0 },
    );
  } finally {
    await bare.close();
    await app.close();
    await mainOnly.close();
    await service.close();
    await machine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({ quick: process.argv.includes('--quick') });
}
