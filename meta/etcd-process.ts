/**
 * The managed etcd's process around the launcher (etcd-launcher.ts): its health check, its pid
 * file, and stopping an etcd that a SIGKILLed daemon left running on the same data dir.
 */
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { EtcdServerTls } from './etcd-launcher.js';
import type { MetaLogger } from './logger.js';

export const DEFAULT_STOP_TIMEOUT_MS = 5_000;
export const HEALTH_POLL_MS = 50;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;

/**
 * The pid file lets a new daemon stop an etcd orphaned by a daemon that was SIGKILLed. It
 * sits next to the data dir, because etcd warns about unknown files inside it.
 */
export const pidFileOf = (dataDir: string) => `${dataDir}.pid`;

/** Remove the pid file if it still names `pid` (a later launcher may have written its own). */
export function removePidFile(dataDir: string, pid: number | undefined): void {
  try {
    if (pid !== undefined && readFileSync(pidFileOf(dataDir), 'utf8').trim() === String(pid)) {
      rmSync(pidFileOf(dataDir), { force: true });
    }
  } catch {
    // no pid file
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isHealthyBody(text: string): boolean {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && (body as { health?: unknown }).health === 'true';
  } catch {
    return false;
  }
}

/** GET /health over https. Liveness of a child we started on loopback, so no identity check. */
function isHealthyTls(clientUrl: string, tls: EtcdServerTls): Promise<boolean> {
  const clientCert =
    tls.clientCaFile === undefined
      ? {}
      : { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  return new Promise((resolve) => {
    const req = https.get(
      `${clientUrl}/health`,
      { rejectUnauthorized: false, timeout: HEALTH_REQUEST_TIMEOUT_MS, agent: false, ...clientCert },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve(isHealthyBody(text)));
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function isHealthy(clientUrl: string, tls: EtcdServerTls | undefined): Promise<boolean> {
  if (tls !== undefined) return isHealthyTls(clientUrl, tls);
  try {
    const res = await fetch(`${clientUrl}/health`, {
      signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS),
    });
    return isHealthyBody(await res.text());
  } catch {
    return false;
  }
}

/**
 * Stop an etcd that a previous launcher left running on this data dir (its parent was
 * killed). Only a process whose command line is etcd with this very data dir is touched.
 */
export async function reapOrphan(dataDir: string, logger: MetaLogger): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFileOf(dataDir), 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // gone, or not Linux: nothing we can check safely
  }
  const args = cmdline.split('\0');
  if (!path.basename(args[0] ?? '').startsWith('etcd') || !args.includes(`--data-dir=${dataDir}`)) return;
  logger.warn('stopping an etcd left running on this data dir by an earlier daemon', { pid, dataDir });
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + DEFAULT_STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(HEALTH_POLL_MS);
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
