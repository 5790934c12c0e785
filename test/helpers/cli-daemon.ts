/**
 * A real daemon in the test process for CLI and client tests: free HTTP port, temp data dir,
 * in-process metadata (the etcd side is covered by the daemon's own tests and the e2e test),
 * small storage buffers. `close()` shuts it down and removes the data dir.
 */
import { serveConfigSchema } from '../../src/config.js';
import { Daemon, type DaemonOptions } from '../../src/daemon.js';
import { TEST_STORE_LIMITS } from './api-harness.js';
import { tempDir } from './temp-dir.js';

export interface TestDaemon {
  readonly daemon: Daemon;
  /** `http://127.0.0.1:PORT`. */
  readonly server: string;
  close(): Promise<void>;
}

export async function startTestDaemon(
  config: Record<string, unknown> = {},
  opts: Omit<DaemonOptions, 'path' | 'limits'> = {},
): Promise<TestDaemon> {
  const dir = await tempDir('epochgraph-cli-daemon-');
  try {
    const daemon = await Daemon.start(
      serveConfigSchema.parse({
        dataDir: dir.path,
        partitions: 2,
        epochMs: 10,
        port: 0,
        analyticsWorkers: 1,
        readWorkers: 1,
        ...config,
      }),
      { ...opts, limits: TEST_STORE_LIMITS, path: '/nonexistent' },
    );
    let closed = false;
    return {
      daemon,
      server: daemon.endpoint,
      async close() {
        if (closed) return;
        closed = true;
        await daemon.close();
        await dir.remove();
      },
    };
  } catch (err) {
    await dir.remove();
    throw err;
  }
}
