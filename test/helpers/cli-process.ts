/**
 * The built `epochgraph` CLI (dist/src/cli.js) as real child processes: run a command to
 * completion, or start `serve` and wait for its banner (failing fast, with its stderr, if it
 * exits first), then stop it with a signal the way a user does.
 */
import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is test/helpers/ in the sources, dist/test/helpers/ when built). */
export const REPO_ROOT = here.includes(`${path.sep}dist${path.sep}`)
  ? path.resolve(here, '../../..')
  : path.resolve(here, '../..');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');

/** Fail with a clear message when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} does not exist: run \`npm run build\` first`);
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

function childEnv(extra: Record<string, string | undefined> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // EPOCHGRAPH_* of the developer's shell must not leak into what a test asserts.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EPOCHGRAPH_')) env[k] = v;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Spawn `epochgraph ...args`, collecting its output as text. */
function spawnCli(
  args: readonly string[],
  opts: CliOptions,
): { child: ChildProcessByStdio<null, Readable, Readable>; out: { stdout: string; stderr: string } } {
  requireBuiltCli();
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  return { child, out };
}

/** Run `epochgraph ...args` to completion. */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const { child, out } = spawnCli(args, opts);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `epochgraph ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 60_000} ms\n${out.stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out.stdout, stderr: out.stderr });
    });
  });
}

/** What `serve` announced in its banner. */
export interface ServeBanner {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** etcd client URLs, or [] in-process. */
  etcdEndpoints: string[];
  /** The etcdctl command line the banner suggests for the latest epoch. */
  etcdctlLatest: string | null;
  latestEpoch: number;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly banner: ServeBanner;
  stdout(): string;
  stderr(): string;
  /** Send a signal and wait for the exit. */
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Parse the banner of `epochgraph serve` (see src/cli/banner.ts). */
export function parseBanner(text: string): ServeBanner | null {
  const endpoint = /serving on (http:\/\/\S+)/.exec(text)?.[1];
  if (endpoint === undefined || !text.includes('stop: ')) return null;
  const meta = /metadata: (?:managed etcd \(stopped with the daemon\)|etcd) at (\S+),/.exec(text)?.[1];
  const latest = /latest epoch: (etcdctl .*)$/m.exec(text)?.[1] ?? null;
  const epoch = Number(/latest epoch (\d+)/.exec(text)?.[1] ?? Number.NaN);
  return {
    endpoint,
    etcdEndpoints: meta === undefined ? [] : meta.split(','),
    etcdctlLatest: latest,
    latestEpoch: epoch,
  };
}

/** Start `epochgraph serve ...args` and wait until its banner is printed. */
export function startServe(args: readonly string[], opts: CliOptions = {}): Promise<ServeProcess> {
  const { child, out } = spawnCli(['serve', ...args], opts);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc = (banner: ServeBanner): ServeProcess => ({
    child,
    banner,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `serve printed no banner within ${opts.timeoutMs ?? 60_000} ms\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    const check = () => {
      const b = parseBanner(out.stdout);
      if (b === null) return;
      clearTimeout(deadline);
      child.stdout?.off('data', check);
      resolve(proc(b));
    };
    child.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(deadline);
      reject(
        new Error(
          `serve exited before its banner (code ${code}, signal ${signal})\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`,
        ),
      );
    });
  });
}
