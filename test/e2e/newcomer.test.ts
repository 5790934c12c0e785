/**
 * A newcomer's first session, with real processes only: `epochgraph serve` (a managed etcd
 * started from PATH), `epochgraph load` of the Graphalytics example, the real `etcdctl`
 * showing the latest epoch (with the exact command the banner printed), `epochgraph
 * neighbors`, SIGTERM, a restart that serves the same epoch, and SIGINT.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort } from '../../meta/free-port.js';
import { runCli, type ServeProcess, startServe } from '../helpers/cli-process.js';
import { runEtcdctl } from '../helpers/etcd.js';
import { fixture } from '../helpers/graphalytics-files.js';
import { tempDir } from '../helpers/temp-dir.js';

const EXAMPLE = fixture('example', 'example-directed');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Run a command line printed by the banner, literally (no shell: it has no quoting). */
function runPrinted(commandLine: string): Promise<string> {
  const [bin, ...args] = commandLine.trim().split(/\s+/);
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${commandLine}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/** The out-neighbours of `v` in a Graphalytics `.e` file. */
function outNeighbors(eFile: string, v: number): number[] {
  return readFileSync(eFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([s]) => s === v)
    .map(([, d]) => d);
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

describe('a newcomer: serve, load, etcdctl, neighbors, SIGTERM, restart', () => {
  it('works end to end with real processes and a managed etcd', async () => {
    const dir = await tempDir('epochgraph-newcomer-');
    cleanups.push(dir.remove);
    const port = await findFreePort();
    const args = ['--data-dir', dir.path, '--port', String(port), '--partitions', '2'];

    // 1. serve, with the managed etcd (etcd is on PATH); its ports are read from the banner.
    let serve: ServeProcess = await startServe(args);
    cleanups.push(() => serve.stop('SIGKILL'));
    const server = `http://127.0.0.1:${port}`;
    expect(serve.banner.endpoint).toBe(server);
    expect(serve.stdout()).toContain('metadata: managed etcd');
    const etcd = serve.banner.etcdEndpoints;
    expect(etcd.length).toBe(1);
    expect(etcd[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(serve.banner.etcdctlLatest).not.toBeNull();
    expect(serve.stdout()).toContain(`curl ${server}/v1/epochs`);

    // 2. load the Graphalytics pair.
    const load = await runCli(['load', `${EXAMPLE}.v`, `${EXAMPLE}.e`, '--server', server]);
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(load.stdout).toMatch(/^loaded 17 edges and 10 vertices from 2 files in .*; epoch \d+\n$/);
    const epoch = Number(/epoch (\d+)\n$/.exec(load.stdout)?.[1]);
    expect(epoch).toBeGreaterThan(0);

    // 3. the real etcdctl shows the loaded epoch as the latest of partition 0, with the
    // banner's own command and with explicit endpoints.
    const latest = await waitFor(
      'gart_meta_gart_latest_epoch_p0',
      async () => (await runPrinted(serve.banner.etcdctlLatest ?? '')).trim(),
      (v) => v === String(epoch),
    );
    expect(latest).toBe(String(epoch));
    expect(
      (await runEtcdctl(etcd, ['get', 'gart_meta_gart_latest_epoch_p1', '--print-value-only'])).trim(),
    ).toBe(String(epoch));

    // 4. neighbors 1 prints the out-neighbours of 1 in the .e file.
    const expected = outNeighbors(`${EXAMPLE}.e`, 1);
    expect(expected.length).toBeGreaterThan(0);
    const nb = await runCli(['neighbors', '1', '--server', server]);
    expect(nb.code).toBe(0);
    expect(
      nb.stdout
        .trim()
        .split('\n')
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...expected].sort((a, b) => a - b));

    // 5. SIGTERM: a clean seal and exit 0; a restart serves the same epoch.
    const stopped = await serve.stop('SIGTERM');
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(serve.stdout()).toContain(`stopped after SIGTERM: epoch ${epoch} sealed, synced and published`);
    await expect(fetch(`${server}/v1/health`)).rejects.toThrow();

    serve = await startServe(args);
    expect(serve.banner.latestEpoch).toBe(epoch);
    const epochs = await runCli(['epochs', '--server', server, '--json']);
    expect(epochs.code).toBe(0);
    const info = JSON.parse(epochs.stdout) as { latest: number; partitions: { vertices: number }[] };
    expect(info.latest).toBe(epoch);
    expect(info.partitions.reduce((s, p) => s + p.vertices, 0)).toBe(10);
    const text = await runCli(['epochs', '--server', server]);
    expect(text.stdout).toContain(`latest epoch  ${epoch}`);
    const again = await runCli(['neighbors', '1', '--server', server, '--epoch', String(epoch)]);
    expect(again.stdout).toBe(nb.stdout);
    expect(
      (
        await runEtcdctl(serve.banner.etcdEndpoints, [
          'get',
          'gart_meta_gart_latest_epoch_p0',
          '--print-value-only',
        ])
      ).trim(),
    ).toBe(String(epoch));
    // Ctrl-C (SIGINT) is a clean stop too.
    expect(await serve.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(serve.stdout()).toContain(`stopped after SIGINT: epoch ${epoch} sealed`);
  });
});
