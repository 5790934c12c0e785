/**
 * Backpressure for writes: at most `max` batches are in the machine at once (posted or
 * waiting for their seal). A batch beyond that waits for a slot, in arrival order, for up to
 * `timeoutMs`, then fails with NOT_READY so the client can retry later.
 */
import { EpochgraphError } from '../src/errors.js';

export class IngestSlots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly timeoutMs: number,
  ) {}

  /** Batches holding a slot. */
  get inUse(): number {
    return this.used;
  }

  /** Take a slot, waiting for one when all are taken. */
  async take(): Promise<void> {
    if (this.used < this.max) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new EpochgraphError('NOT_READY', `ingest queue is full (${this.max} batches); retry later`));
      }, this.timeoutMs);
      const go = () => {
        clearTimeout(timer);
        this.used++;
        resolve();
      };
      this.waiting.push(go);
    });
  }

  /** Give a slot back; the longest waiter gets it. */
  release(): void {
    this.used--;
    const next = this.waiting.shift();
    if (next !== undefined) next();
  }
}
