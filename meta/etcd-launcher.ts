/**
 * Starts a single-member etcd as a child process on loopback, for the managed (embedded)
 * mode of the daemon and for tests. Like nats.js's test server launcher, it waits until
 * the server answers, fails fast with the server's own stderr if it exits early, and stops
 * it with SIGTERM, then SIGKILL after a timeout. A stopped server can be started again on
 * the same ports and data dir, which is how the outage tests take etcd away and bring it
 * back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EpochgraphError } from '../src/errors.js';
import {
  DEFAULT_STOP_TIMEOUT_MS,
  HEALTH_POLL_MS,
  isHealthy,
  pidFileOf,
  reapOrphan,
  removePidFile,
  sleep,
} from './etcd-process.js';
import { findFreePort, isPortFree, LOOPBACK_HOST } from './free-port.js';
import { type MetaLogger, silentLogger } from './logger.js';

/** etcd's well-known ports; plain `etcdctl` (no --endpoints) talks to the first. */
export const ETCD_DEFAULT_CLIENT_PORT = 2379;
export const ETCD_DEFAULT_PEER_PORT = 2380;
const DEFAULT_READY_TIMEOUT_MS = 20_000;
/** A port picked by the OS can be taken by someone else before etcd binds it; try again. */
const PORT_ATTEMPTS = 5;
/** Enough of etcd's stderr to explain a failed start, without holding its whole log. */
const STDERR_TAIL_BYTES = 16 * 1024;
/**
 * The managed etcd keeps its history bounded: epochs are published every 50 ms, and each
 * publish and prune is a new revision. Keeping the last 10 000 revisions is minutes of
 * history, enough for any watcher to catch up.
 */
const COMPACTION_ARGS = ['--auto-compaction-mode=revision', '--auto-compaction-retention=10000'];
/** Find an executable named `name` on a PATH string; null when there is none. */
export function findEtcdBinary(pathEnv: string | undefined = process.env.PATH, name = 'etcd'): string | null {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/**
 * Serve clients over TLS. The managed etcd does not need it (loopback only); it is here so
 * the store's TLS options can be tested against a real server.
 */
export interface EtcdServerTls {
  /** Server certificate and key (PEM). */
  readonly certFile: string;
  readonly keyFile: string;
  /**
   * CA that client certificates must chain to; enables `--client-cert-auth`. The launcher's
   * health check then presents the server's own certificate, so that certificate must allow
   * client authentication (extendedKeyUsage clientAuth), as in etcd's own examples.
   */
  readonly clientCaFile?: string;
}

export interface EtcdLaunchOptions {
  /** Path of the etcd binary; default: `etcd` on PATH. */
  readonly binary?: string;
  /** Data dir; default: a new temp dir, removed by `dispose()`. */
  readonly dataDir?: string;
  /** Member name; default `epochgraph`. */
  readonly name?: string;
  /** Try etcd's default ports 2379/2380 first, so plain `etcdctl` reaches the server. */
  readonly preferDefaultPorts?: boolean;
  readonly readyTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  /** More etcd flags, e.g. `['--log-level=debug']`. */
  readonly extraArgs?: readonly string[];
  /** Serve clients over https; see EtcdServerTls. */
  readonly tls?: EtcdServerTls;
  readonly logger?: MetaLogger;
  /**
   * Called when a started (healthy) etcd exits without `stop()` being called: it crashed or
   * was killed. The server is then stopped; `start()` brings it back.
   */
  readonly onUnexpectedExit?: (reason: string) => void;
}

/** A launched etcd. `stop()` keeps its ports and data, so `start()` brings the same server back. */
export interface EtcdServer {
  /** Client URLs, e.g. `['http://127.0.0.1:41234']`. */
  readonly endpoints: readonly string[];
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** Pid of the running child, null while stopped. */
  readonly pid: number | null;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL after the stop timeout. Ports and data dir are kept. */
  stop(): Promise<void>;
  /** Start again on the same ports and data dir, and wait until healthy. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** Stop, and remove the data dir if the launcher created it. */
  dispose(): Promise<void>;
  /** The end of etcd's stderr, for error messages. */
  stderrTail(): string;
}

interface Ports {
  client: number;
  peer: number;
}

async function pickPorts(preferDefault: boolean): Promise<Ports> {
  if (
    preferDefault &&
    (await isPortFree(ETCD_DEFAULT_CLIENT_PORT)) &&
    (await isPortFree(ETCD_DEFAULT_PEER_PORT))
  ) {
    return { client: ETCD_DEFAULT_CLIENT_PORT, peer: ETCD_DEFAULT_PEER_PORT };
  }
  const client = await findFreePort();
  let peer = await findFreePort();
  while (peer === client) peer = await findFreePort();
  return { client, peer };
}

/** Environment for the child without ETCD_* variables: etcd refuses to start when one shadows a flag. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCD')) env[k] = v;
  return env;
}

class LaunchedEtcd implements EtcdServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** The child being stopped on purpose; its exit is not reported as unexpected. */
  private stopping: ChildProcess | null = null;
  /** The child that passed its health check; only its exit can be "unexpected". */
  private readyChild: ChildProcess | null = null;
  private stderrBuf = '';
  private readonly killOnExit = () => this.child?.kill('SIGTERM');

  constructor(
    private readonly binary: string,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private ports: Ports,
    private readonly opts: EtcdLaunchOptions,
    private readonly logger: MetaLogger,
  ) {}

  get clientPort(): number {
    return this.ports.client;
  }
  get peerPort(): number {
    return this.ports.peer;
  }
  get endpoints(): readonly string[] {
    return [this.clientUrl()];
  }
  get pid(): number | null {
    return this.child?.pid ?? null;
  }
  get running(): boolean {
    return this.child !== null;
  }

  stderrTail(): string {
    return this.stderrBuf;
  }

  private clientUrl(): string {
    const scheme = this.opts.tls === undefined ? 'http' : 'https';
    return `${scheme}://${LOOPBACK_HOST}:${this.ports.client}`;
  }

  /** First start: new ports are tried again when another process took ours in the meantime. */
  async launch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (err) {
        const portTaken = /address already in use/i.test(this.stderrBuf);
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw err;
        this.ports = await pickPorts(false);
      }
    }
  }

  async start(): Promise<void> {
    if (this.child !== null) return;
    const name = this.opts.name ?? 'epochgraph';
    const peerUrl = `http://${LOOPBACK_HOST}:${this.ports.peer}`;
    const clientUrl = this.clientUrl();
    const tls = this.opts.tls;
    const tlsArgs =
      tls === undefined
        ? []
        : [
            `--cert-file=${tls.certFile}`,
            `--key-file=${tls.keyFile}`,
            ...(tls.clientCaFile === undefined
              ? []
              : [`--trusted-ca-file=${tls.clientCaFile}`, '--client-cert-auth']),
          ];
    const args = [
      `--name=${name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${name}=${peerUrl}`,
      '--initial-cluster-state=new',
      '--logger=zap',
      '--log-outputs=stderr',
      ...COMPACTION_ARGS,
      ...tlsArgs,
      ...(this.opts.extraArgs ?? []),
    ];
    this.stderrBuf = '';
    // Its own process group: a Ctrl-C in the terminal signals the daemon's group only, so the
    // daemon stops etcd itself, after its last etcd write, instead of losing it mid-shutdown.
    const child = spawn(this.binary, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: childEnv(),
      detached: true,
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      this.stderrBuf = (this.stderrBuf + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    };
    child.stderr?.on('data', onData);
    let exitInfo: string | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal === null ? `exit code ${code}` : `signal ${signal}`;
        if (this.child === child) this.child = null;
        process.off('exit', this.killOnExit);
        removePidFile(this.dataDir, child.pid);
        resolve();
        if (this.readyChild === child && this.stopping !== child) {
          this.logger.error('etcd exited unexpectedly', { pid: child.pid, reason: exitInfo });
          this.opts.onUnexpectedExit?.(`${exitInfo}; stderr ends with:\n${this.stderrBuf.slice(-2000)}`);
        }
      });
      child.once('error', (err) => {
        // spawn failed (ENOENT, EACCES): there is no process to wait for
        exitInfo = err.message;
        if (this.child === child) this.child = null;
        process.off('exit', this.killOnExit);
        resolve();
      });
    });
    process.on('exit', this.killOnExit);
    if (child.pid !== undefined) {
      writeFileSync(pidFileOf(this.dataDir), `${child.pid}\n`);
    }
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    for (;;) {
      if (exitInfo !== null) {
        throw new EpochgraphError(
          'NOT_READY',
          `etcd (${this.binary}) exited during start (${exitInfo}); its stderr ends with:\n${this.stderrBuf.slice(-4000)}`,
          { args },
        );
      }
      if (await isHealthy(clientUrl, tls)) break;
      if (Date.now() > deadline) {
        await this.stop();
        throw new EpochgraphError(
          'NOT_READY',
          `etcd at ${clientUrl} was not healthy after ${this.opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS} ms; its stderr ends with:\n${this.stderrBuf.slice(-4000)}`,
          { args },
        );
      }
      await sleep(HEALTH_POLL_MS);
    }
    this.readyChild = child;
    this.logger.info('etcd is up', { endpoint: clientUrl, pid: child.pid, dataDir: this.dataDir });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.stopping = child;
    child.kill('SIGTERM');
    const stopTimeoutMs = this.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn('etcd did not stop on SIGTERM; sending SIGKILL', { pid: child.pid, stopTimeoutMs });
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Start etcd and wait until it is healthy. Throws NOT_READY with etcd's stderr if it cannot start. */
export async function launchEtcd(opts: EtcdLaunchOptions = {}): Promise<EtcdServer> {
  const logger = opts.logger ?? silentLogger;
  const binary = opts.binary ?? findEtcdBinary();
  if (binary === null) {
    throw new EpochgraphError('NOT_READY', 'no etcd binary on PATH (Debian: apt-get install etcd-server)');
  }
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = path.resolve(opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'epochgraph-etcd-'))));
  // etcd wants its data dir private (0700) and warns otherwise.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await reapOrphan(dataDir, logger);
  const server = new LaunchedEtcd(
    binary,
    dataDir,
    ownsDataDir,
    await pickPorts(opts.preferDefaultPorts ?? false),
    opts,
    logger,
  );
  try {
    await server.launch();
  } catch (err) {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return server;
}
