/**
 * `epochgraph serve` as a real process, beyond the newcomer's path: the in-process fallback
 * when no etcd binary is on PATH (and the banner says etcdctl cannot see it), a config file
 * merged under flags and environment, and a start that fails (port in use) exiting 1 with
 * the reason and leaving nothing behind.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EpochgraphClient } from '../../src/client/index.js';
import { runCli, type ServeProcess, startServe } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A PATH without etcd (node itself is started by its absolute path): metadata in-process. */
const NO_ETCD = { PATH: '/nonexistent' };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('epochgraph serve', () => {
  it('keeps metadata in-process without etcd, and says so', async () => {
    const dir = await tempDir('epochgraph-serve-');
    cleanups.push(dir.remove);
    const serve: ServeProcess = await startServe(
      ['--data-dir', dir.path, '--port', '0', '--partitions', '1'],
      {
        env: NO_ETCD,
      },
    );
    cleanups.push(() => serve.stop('SIGKILL'));
    expect(serve.stdout()).toContain('metadata: in-process (no etcd binary on PATH and no --etcd)');
    expect(serve.banner.etcdEndpoints).toEqual([]);
    const health = await new EpochgraphClient({ server: serve.banner.endpoint }).health();
    expect(health).toMatchObject({ metadata: 'in-process', partitions: 1, ready: true });
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('merges a config file under the environment and flags', async () => {
    const dir = await tempDir('epochgraph-serve-');
    cleanups.push(dir.remove);
    const config = path.join(dir.path, 'epochgraph.json');
    writeFileSync(
      config,
      JSON.stringify({ dataDir: path.join(dir.path, 'data'), partitions: 3, epochMs: 500, retainMs: 5000 }),
    );
    const serve = await startServe(['--config', config, '--port', '0', '--epoch-ms', '20'], {
      env: { ...NO_ETCD, EPOCHGRAPH_RETAIN_MS: '7000', EPOCHGRAPH_EPOCH_MS: '40' },
    });
    cleanups.push(() => serve.stop('SIGKILL'));
    const e = await new EpochgraphClient({ server: serve.banner.endpoint }).epochs();
    // partitions from the file, retainMs from the environment, epochMs from the flag.
    expect(e.partitions).toHaveLength(3);
    expect(e.retainMs).toBe(7000);
    expect(e.epochMs).toBe(20);
    expect(serve.stdout()).toContain(`data in ${path.join(dir.path, 'data')}`);
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('exits 1 with the reason when it cannot start (port in use)', async () => {
    const dir = await tempDir('epochgraph-serve-');
    cleanups.push(dir.remove);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as net.AddressInfo).port;
    const r = await runCli(['serve', '--data-dir', dir.path, '--port', String(port)], { env: NO_ETCD });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/epochgraph serve: cannot start: .*EADDRINUSE/);
    expect(r.stdout).toBe('');
    // Nothing was left holding the data dir: a second start on a free port works.
    const serve = await startServe(['--data-dir', dir.path, '--port', '0'], { env: NO_ETCD });
    cleanups.push(() => serve.stop('SIGKILL'));
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
