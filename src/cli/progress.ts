/**
 * The progress bar of long work (`load`): cli-progress on stderr, by bytes of input
 * acknowledged, with the edge rate and the ETA. On a terminal it redraws in place; with
 * `--progress` on a pipe or file it prints a line every second.
 */
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { LoadProgress } from './bulk-loader.js';

export interface ProgressBar {
  update(p: LoadProgress): void;
  stop(): void;
}

const MIB = 1024 * 1024;

/** `1234567` -> `1.23M`. */
export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}K`;
  return String(Math.round(n));
}

export function progressBar(stream: Writable, totalBytes: number, tty: boolean): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as unknown as NodeJS.WritableStream,
      format:
        '{bar} {percentage}% | {doneMiB}/{totalMiB} MiB | {items} | {rate} edges/s | ETA {eta_formatted}',
      barsize: 30,
      fps: 5,
      etaBuffer: 50,
      hideCursor: null,
      noTTYOutput: !tty,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(1, totalBytes);
  bar.start(total, 0, {
    doneMiB: '0.0',
    totalMiB: (totalBytes / MIB).toFixed(1),
    items: '0 edges',
    rate: '0',
  });
  return {
    update(p) {
      const secs = Math.max(p.elapsedMs / 1000, 1e-3);
      bar.update(Math.min(total, p.bytesDone), {
        doneMiB: (p.bytesDone / MIB).toFixed(1),
        items: `${humanCount(p.edges)} edges${p.vertices === 0 ? '' : ` + ${humanCount(p.vertices)} vertices`}`,
        rate: humanCount(p.edges / secs),
      });
    },
    stop() {
      bar.stop();
    },
  };
}
