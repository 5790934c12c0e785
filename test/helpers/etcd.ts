/**
 * A real etcd for a test file: free loopback ports, a temp data dir, and the real `etcdctl`
 * to look at it the way a user does. `stop()` is the final teardown; `halt()` and
 * `restart()` take the same server away and bring it back (same ports, same data) for
 * outage tests.
 */
import { execFile } from 'node:child_process';
import { type EtcdServer, findEtcdBinary, launchEtcd } from '../../meta/etcd-launcher.js';

/** etcdctl output can be large for prefix listings of many keys. */
const ETCDCTL_MAX_BUFFER = 64 * 1024 * 1024;
const ETCDCTL_TIMEOUT_MS = 15_000;

export interface TestEtcd {
  /** Client URLs, e.g. `['http://127.0.0.1:41234']`. */
  readonly endpoints: readonly string[];
  /** The launched server (pid, ports, data dir). */
  readonly server: EtcdServer;
  /** Stop etcd and remove its temp data dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Stop the process only, keeping ports and data, to simulate an outage. */
  halt(): Promise<void>;
  /** Start again on the same ports and data dir (stopping first if running); waits until healthy. */
  restart(): Promise<void>;
  /** Run the real `etcdctl` (API v3) against this server; resolves with stdout, rejects with stderr. */
  etcdctl(args: readonly string[]): Promise<string>;
}

/** Absolute path of `etcdctl`, or null when it is not installed. */
export function findEtcdctl(): string | null {
  return findEtcdBinary(process.env.PATH, 'etcdctl');
}

/** Run the real etcdctl against `endpoints`. */
export function runEtcdctl(endpoints: readonly string[], args: readonly string[]): Promise<string> {
  const bin = findEtcdctl() ?? 'etcdctl';
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      [`--endpoints=${endpoints.join(',')}`, ...args],
      {
        env: { ...process.env, ETCDCTL_API: '3' },
        maxBuffer: ETCDCTL_MAX_BUFFER,
        timeout: ETCDCTL_TIMEOUT_MS,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`etcdctl ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** Start a real etcd on free loopback ports with a temp data dir. */
export async function startEtcd(): Promise<TestEtcd> {
  const server = await launchEtcd({ preferDefaultPorts: false });
  let stopped = false;
  return {
    server,
    get endpoints() {
      return server.endpoints;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.dispose();
    },
    halt: () => server.stop(),
    restart: () => server.restart(),
    etcdctl: (args) => runEtcdctl(server.endpoints, args),
  };
}
