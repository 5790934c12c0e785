/**
 * `epochgraph serve`: merge flags, EPOCHGRAPH_* variables and the config file through
 * loadServeConfig (a bad value is a usage error naming the flag, before anything starts),
 * start the daemon, print the banner, and on SIGTERM or SIGINT shut down cleanly (stop
 * accepting writes, seal, fsync, publish, deregister) and exit 0.
 *
 * Output: the banner and the final line go to stdout as text; logs are pino JSON lines on
 * stderr.
 */
import pino from 'pino';
import type { ServeConfig } from '../config.js';
import { loadServeConfig } from '../config.js';
import { Daemon, type DaemonLogger } from '../daemon.js';
import { EpochgraphError } from '../errors.js';
import { EXIT_FAILURE, EXIT_OK, helpText, kebab, parseCommandArgs, stringFlag, UsageError } from './args.js';
import { banner } from './banner.js';
import { SERVE, SERVE_CONFIG_KEYS } from './commands.js';
import { type CliIo, write } from './io.js';
import { packageVersion } from './version.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The serve configuration from argv and the environment; UsageError when a value is bad. */
export function serveConfigFromArgs(argv: readonly string[], env: CliIo['env']): ServeConfig | 'help' {
  const { values, help } = parseCommandArgs(SERVE, argv);
  if (help) return 'help';
  const flags: Record<string, string | undefined> = {};
  for (const key of SERVE_CONFIG_KEYS) flags[key] = stringFlag(values, kebab(key));
  try {
    return loadServeConfig({ flags, env, configFile: stringFlag(values, 'config') });
  } catch (err) {
    if (err instanceof EpochgraphError && err.code === 'INVALID_REQUEST') throw new UsageError(err.message);
    throw err;
  }
}

function daemonLogger(log: pino.Logger): DaemonLogger {
  return {
    info: (m, f) => (f === undefined ? log.info(m) : log.info(f, m)),
    warn: (m, f) => (f === undefined ? log.warn(m) : log.warn(f, m)),
    error: (m, f) => (f === undefined ? log.error(m) : log.error(f, m)),
  };
}

export async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const config = serveConfigFromArgs(argv, io.env);
  if (config === 'help') {
    await write(io.stdout, helpText(SERVE));
    return EXIT_OK;
  }
  const log = pino(
    { level: config.logLevel, base: null, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
  // Signals are caught from the start: one that arrives while recovery runs stops the daemon
  // as soon as it is up (a half-started daemon is never abandoned).
  let signal: string | null = null;
  let wake: (() => void) | null = null;
  const onSignal = (sig: string) => {
    if (signal !== null) {
      log.warn(`${sig} again: the clean shutdown is under way (SIGKILL stops at once, without it)`);
      return;
    }
    signal = sig;
    log.info(`${sig}: shutting down (stop writes, seal, fsync, deregister)`);
    wake?.();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    let daemon: Daemon;
    try {
      daemon = await Daemon.start(config, {
        logger: daemonLogger(log),
        requestLogs: config.logLevel === 'debug' || config.logLevel === 'trace',
      });
    } catch (err) {
      // Typed errors (a P mismatch, etcd unreachable) say what is wrong; others (a port in
      // use) are system errors whose message is the explanation.
      if (err instanceof EpochgraphError) throw err;
      await write(
        io.stderr,
        `epochgraph serve: cannot start: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      return EXIT_FAILURE;
    }
    await write(
      io.stdout,
      banner({
        version: packageVersion(),
        endpoint: daemon.endpoint,
        machine: config.machine,
        partitions: config.partitions,
        dataDir: config.dataDir,
        metaPrefix: config.metaPrefix,
        metaMode: daemon.meta.mode,
        etcdEndpoints: daemon.meta.endpoints,
        latestEpoch: daemon.machine.latestEpoch,
        etcdUsername: config.etcdUsername,
        etcdCaFile: config.etcdCaFile,
        etcdCertFile: config.etcdCertFile,
        etcdKeyFile: config.etcdKeyFile,
      }),
    );
    if (signal === null) await new Promise<void>((resolve) => (wake = resolve));
    await daemon.close();
    await write(
      io.stdout,
      `stopped after ${signal}: epoch ${daemon.machine.latestEpoch} sealed, synced and published; deregistered\n`,
    );
    return EXIT_OK;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    log.flush();
  }
}
