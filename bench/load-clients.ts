/**
 * The HTTP load clients of the API benchmark (api.ts): autocannon for request rates (with the
 * server's main-thread time per request), and two worker-thread node:http drivers for what
 * autocannon measures badly: big answers (drain) and distinct request bodies (postAll). api.ts
 * runs all of them off the main thread, so the load generator does not take event-loop time
 * from the server it measures.
 *
 * Separate from api.ts because they measure, they do not set anything up: api.ts builds the
 * machine, the app and the requests, and reads its figures from what these return.
 */
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';

export interface Cannon {
  requests: number;
  reqPerSec: number;
  bytes: number;
  seconds: number;
  non2xx: number;
  errors: number;
  /** Busy time of the main thread (the server's event loop) per request, in µs. */
  mainUsPerRequest: number;
}

export async function cannon(opts: autocannon.Options): Promise<Cannon> {
  const elu = performance.eventLoopUtilization();
  const r = await autocannon({ ...opts });
  const busy = performance.eventLoopUtilization(elu).active;
  return {
    requests: r.requests.total,
    reqPerSec: r.requests.total / r.duration,
    bytes: r.throughput.total,
    seconds: r.duration,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    mainUsPerRequest: (busy * 1000) / Math.max(1, r.requests.total),
  };
}

export function check(name: string, c: Cannon): void {
  if (c.non2xx > 0 || c.errors > 0)
    throw new Error(`${name}: ${c.non2xx} non-2xx answers and ${c.errors} errors in ${c.requests} requests`);
}

/**
 * autocannon's workers receive options by structured clone, which turns a Buffer body into a
 * plain Uint8Array that autocannon refuses; this setupRequest module (loaded in the worker)
 * turns it back into a Buffer.
 */
export const BINARY_BODY_SETUP = `module.exports = (req) => {
  if (req.body && !Buffer.isBuffer(req.body)) req.body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  return req;
};
`;

/**
 * A worker-thread client for big answers: it sends the same request over `conns` keep-alive
 * connections for `ms`, counts the answer bytes and drops them. (autocannon parses every body
 * byte in JavaScript and tops out well below what the server sends for large answers.)
 */
const DRAIN_CLIENT = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, conns, ms, method, headers } = workerData;
const body = workerData.body === undefined ? undefined : Buffer.from(workerData.body);
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
let bytes = 0, requests = 0, failed = 0, open = conns;
const end = Date.now() + ms;
function next() {
  if (Date.now() > end) { if (--open === 0) parentPort.postMessage({ bytes, requests, failed }); return; }
  const req = http.request(url, { agent, method, headers }, (res) => {
    if (res.statusCode !== 200) failed++;
    res.on('data', (c) => { bytes += c.length; });
    res.on('end', () => { requests++; next(); });
  });
  req.on('error', () => { failed++; next(); });
  req.end(body);
}
for (let i = 0; i < conns; i++) next();
`;

/**
 * A worker-thread ingest client: POSTs each body once, over `conns` keep-alive connections,
 * and reports how many were answered 200. (autocannon would run in the server's own thread
 * here, since a per-request body needs a setupRequest closure that cannot cross to a worker.)
 */
const POST_CLIENT = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, conns, headers } = workerData;
const bodies = workerData.bodies.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
let sent = 0, ok = 0, failed = 0, open = conns;
const t0 = performance.now();
function next() {
  if (sent === bodies.length) {
    if (--open === 0) parentPort.postMessage({ ok, failed, seconds: (performance.now() - t0) / 1000 });
    return;
  }
  const body = bodies[sent++];
  const req = http.request(url, { agent, method: 'POST', headers }, (res) => {
    if (res.statusCode === 200) ok++;
    else failed++;
    res.resume();
    res.on('end', next);
  });
  req.on('error', () => { failed++; next(); });
  req.end(body);
}
for (let i = 0; i < conns; i++) next();
`;

/** POST every body once from a worker thread; returns answered bodies and elapsed seconds. */
export async function postAll(
  url: string,
  conns: number,
  headers: Record<string, string>,
  bodies: Uint8Array[],
): Promise<{ ok: number; seconds: number }> {
  const worker = new Worker(POST_CLIENT, { eval: true, workerData: { url, conns, headers, bodies } });
  const r = (await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  })) as { ok: number; failed: number; seconds: number };
  await worker.terminate();
  if (r.failed > 0) throw new Error(`${url}: ${r.failed} of ${bodies.length} bodies failed`);
  return r;
}

export interface Drained {
  bytes: number;
  requests: number;
  seconds: number;
  reqPerSec: number;
}

export async function drain(
  url: string,
  conns: number,
  ms: number,
  request: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<Drained> {
  const worker = new Worker(DRAIN_CLIENT, {
    eval: true,
    workerData: {
      url,
      conns,
      ms,
      method: request.method ?? 'GET',
      headers: request.headers ?? { accept: 'application/msgpack' },
      body: request.body,
    },
  });
  const t0 = performance.now();
  const r = (await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  })) as { bytes: number; requests: number; failed: number };
  const seconds = (performance.now() - t0) / 1000;
  await worker.terminate();
  if (r.failed > 0) throw new Error(`${url}: ${r.failed} failed requests`);
  return { bytes: r.bytes, requests: r.requests, seconds, reqPerSec: r.requests / seconds };
}
