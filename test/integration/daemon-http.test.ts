/**
 * The daemon serves its HTTP API on a real port: ready after recovery, writes acknowledged
 * with an epoch that is at once readable, and a clean shutdown that makes a restart serve the
 * same epoch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { serveConfigSchema } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('daemon over HTTP', () => {
  it('serves writes and reads on a real port and restarts at the same epoch', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const config = serveConfigSchema.parse({ dataDir: dir.path, partitions: 2, epochMs: 10, port: 0 });
    const d = await Daemon.start(config, { limits: LIMITS, path: '/nonexistent' });
    cleanups.push(() => d.close());
    const base = d.endpoint;
    expect((await fetch(`${base}/v1/ready`)).status).toBe(200);
    const w = await fetch(`${base}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ops: [
          { op: 'upsertEdge', src: 1, dst: 2 },
          { op: 'upsertEdge', src: 1, dst: 'b' },
        ],
      }),
    });
    expect(w.status).toBe(200);
    const { epoch } = (await w.json()) as { epoch: number };
    const r = await fetch(`${base}/v1/snapshots/${epoch}/vertices/1/neighbors`);
    expect(r.headers.get('x-epoch')).toBe(String(epoch));
    expect(((await r.json()) as { neighbors: unknown[] }).neighbors).toEqual([2, 'b']);
    await d.close();
    await expect(fetch(`${base}/v1/health`)).rejects.toThrow();
    const d2 = await Daemon.start({ ...config }, { limits: LIMITS, path: '/nonexistent' });
    cleanups.push(() => d2.close());
    const e = (await (await fetch(`${d2.endpoint}/v1/epochs`)).json()) as { latest: number };
    expect(e.latest).toBe(epoch);
  });
});
