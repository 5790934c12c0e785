/**
 * The app on a real port (`listen({ port: 0 })`) over real sockets: a msgpack write and reads
 * with fetch, a streamed CSR export read chunk by chunk, and a client that walks away in the
 * middle of an export: the server stays up and the export's snapshot is closed (no reader
 * stays registered).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackMsgpack } from '../../src/codec/msgpack.js';
import { decodeBatch } from '../../src/model/ops.js';
import { type ApiHarness, mp, startApi } from '../helpers/api-harness.js';
import { activeReaders, settleReaders } from '../helpers/api-readers.js';

let h: ApiHarness;
let base: string;
let port: number;
const EDGES = 200_000;

beforeAll(async () => {
  h = await startApi({ api: { limits: { csrChunkBytes: 64 * 1024 } } });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  port = (h.app.server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await h?.close();
});

describe('on a real port', () => {
  it('writes in msgpack and reads back in msgpack and JSON', async () => {
    const n = EDGES;
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      src[i] = i % 1000;
      dst[i] = 1000 + i;
    }
    const w = await fetch(`${base}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: mp({ edges: { src, dst } }),
    });
    expect(w.status).toBe(200);
    const ack = unpackMsgpack(new Uint8Array(await w.arrayBuffer())) as {
      epoch: number;
      applied: { upsertedEdges: number };
    };
    expect(ack.applied.upsertedEdges).toBe(n);
    expect(w.headers.get('x-epoch')).toBe(String(ack.epoch));

    const r = await fetch(`${base}/v1/snapshots/${ack.epoch}/vertices/7/neighbors?limit=3`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    const page = (await r.json()) as { neighbors: number[]; nextCursor: string };
    expect(page.neighbors).toEqual([1007, 2007, 3007]);
    expect(typeof page.nextCursor).toBe('string');

    const rows = await fetch(`${base}/v1/snapshots/latest/neighbors`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: mp({ ids: new Float64Array([7, 8, 424242]) }),
    });
    const rb = unpackMsgpack(new Uint8Array(await rows.arrayBuffer())) as {
      offsets: Float64Array;
      missing: Float64Array;
    };
    expect(Array.from(rb.offsets)).toEqual([0, 200, 400, 400]);
    expect(Array.from(rb.missing)).toEqual([2]);

    const missing = await fetch(`${base}/v1/snapshots/latest/vertices/424242`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('VERTEX_NOT_FOUND');
  });

  it('streams a CSR export over the socket', async () => {
    const r = await fetch(`${base}/v1/snapshots/latest/partitions/0/csr`);
    expect(r.status).toBe(200);
    const length = Number(r.headers.get('content-length'));
    const bytes = new Uint8Array(await r.arrayBuffer());
    expect(bytes.length).toBe(length);
    const b = unpackMsgpack(bytes) as { ids: Float64Array; offsets: Float64Array; neighbors: Float64Array };
    expect(b.neighbors).toBeInstanceOf(Float64Array);
    expect(b.offsets[b.offsets.length - 1]).toBe(b.neighbors.length);
    expect(b.offsets.length).toBe(b.ids.length + 1);
    expect(b.neighbors.length).toBeGreaterThan(EDGES / 4);
  });

  it('closes the snapshot of an export whose client goes away, and keeps serving', async () => {
    // A seal releases the snapshots single-vertex reads keep open for the latest epoch.
    await h.machine.submit(decodeBatch({ ops: [{ op: 'upsertVertex', id: 'flush' }] }));
    expect(activeReaders(h.machine)).toBe(0);
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: '/v1/snapshots/latest/partitions/1/csr?direction=in' },
        (res) => {
          let got = 0;
          res.on('data', (chunk: Buffer) => {
            got += chunk.length;
            if (got > 64 * 1024) {
              // The export is under way: its snapshot is a registered reader right now.
              expect(activeReaders(h.machine)).toBeGreaterThan(0);
              req.destroy();
              resolve(got);
            }
          });
          res.on('error', () => undefined);
        },
      );
      req.on('error', (err) => {
        if (!req.destroyed) reject(err);
      });
    });
    expect(received).toBeGreaterThan(64 * 1024);
    expect(await settleReaders(h.machine)).toBe(0);
    const health = await fetch(`${base}/v1/health`);
    expect(health.status).toBe(200);
  });
});
