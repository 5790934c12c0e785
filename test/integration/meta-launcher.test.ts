/**
 * The etcd launcher: healthy on free loopback ports, fails fast with etcd's own stderr,
 * stops with SIGTERM (SIGKILL when that is ignored), restarts on the same ports and data,
 * and stops an etcd orphaned on its data dir by an earlier run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EtcdServer, launchEtcd } from '../../meta/etcd-launcher.js';
import { findFreePort, isPortFree } from '../../meta/free-port.js';
import { runEtcdctl } from '../helpers/etcd.js';

const servers: EtcdServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s.pid !== null) {
      try {
        process.kill(s.pid, 'SIGCONT'); // in case a test left it stopped
      } catch {
        // already gone
      }
    }
    await s.dispose();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function launch(opts: Parameters<typeof launchEtcd>[0] = {}): Promise<EtcdServer> {
  const s = await launchEtcd(opts);
  servers.push(s);
  return s;
}

async function healthy(s: EtcdServer): Promise<boolean> {
  try {
    const res = await fetch(`${s.endpoints[0]}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('etcd launcher', () => {
  it('hands out free loopback ports', async () => {
    const port = await findFreePort();
    expect(port).toBeGreaterThan(0);
    expect(await isPortFree(port)).toBe(true);
  });

  it('starts etcd healthy on loopback, and restarts it on the same ports with the same data', async () => {
    const s = await launch();
    expect(s.endpoints[0]).toBe(`http://127.0.0.1:${s.clientPort}`);
    expect(s.clientPort).not.toBe(s.peerPort);
    expect(await healthy(s)).toBe(true);
    await runEtcdctl(s.endpoints, ['put', 'k', 'v']);
    const pid = s.pid!;

    await s.stop();
    expect(s.running).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(await healthy(s)).toBe(false);
    expect(await isPortFree(s.clientPort)).toBe(true);

    const endpoints = s.endpoints;
    await s.start();
    expect(s.endpoints).toEqual(endpoints);
    expect(s.pid).not.toBe(pid);
    expect((await runEtcdctl(s.endpoints, ['get', 'k', '--print-value-only'])).trim()).toBe('v');

    const dataDir = s.dataDir;
    expect(existsSync(`${dataDir}.pid`)).toBe(true);
    await s.dispose();
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(`${dataDir}.pid`)).toBe(false);
  });

  it('fails fast with etcd’s stderr when etcd exits during start', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'epochgraph-launch-'));
    dirs.push(dataDir);
    const t0 = performance.now();
    const err = await launchEtcd({ dataDir, extraArgs: ['--no-such-flag'] }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/exited during start/);
    expect((err as Error).message).toMatch(/no-such-flag/);
    expect(existsSync(`${dataDir}.pid`)).toBe(false);
  });

  it('says so when there is no etcd binary', async () => {
    await expect(launchEtcd({ binary: '/nonexistent/etcd' })).rejects.toThrow(/exited during start.*ENOENT/s);
  });

  it('falls back to SIGKILL when etcd does not stop on SIGTERM', async () => {
    const s = await launch({ stopTimeoutMs: 300 });
    const pid = s.pid!;
    process.kill(pid, 'SIGSTOP'); // a stopped process leaves SIGTERM pending; SIGKILL still works
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(alive(pid)).toBe(false);
  });

  it('stops an etcd left running on its data dir by an earlier launcher', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'epochgraph-orphan-'));
    dirs.push(dataDir);
    const first = await launch({ dataDir });
    const orphanPid = first.pid!;
    const second = await launch({ dataDir });
    expect(alive(orphanPid)).toBe(false);
    expect(await healthy(second)).toBe(true);
    expect(second.pid).not.toBe(orphanPid);
  });
});
