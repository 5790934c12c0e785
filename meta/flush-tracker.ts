/**
 * What `flush()` of the coalescing publisher waits for: per pending slot, the sequence number
 * of the newest submission and of the newest one known written, and the callers waiting.
 *
 * Pending work coalesces (a newer state replaces an older pending one in its slot), so a
 * submission is never written on its own and cannot be acknowledged on its own. Instead every
 * submission takes a number from one counter; a flush takes the newest number of every slot
 * as its target and is done once each slot has an acknowledged number at least that large:
 * the submission itself, or a newer one that replaced it, is in the store.
 *
 * Separate from epoch-publisher.ts because it is bookkeeping only (no store, no retries):
 * the publisher says what it submitted and what it wrote, this says who may stop waiting.
 */

interface FlushWaiter {
  readonly target: ReadonlyMap<string, number>;
  resolve(): void;
  reject(err: Error): void;
}

export class FlushTracker {
  private seq = 0;
  /** Slot → seq of the newest submission, and of the newest one known written. */
  private readonly submitted = new Map<string, number>();
  private readonly acked = new Map<string, number>();
  private waiters: FlushWaiter[] = [];

  /** Record a new submission to a slot; returns its seq, to `ack` once it is written. */
  submit(slot: string): number {
    const seq = ++this.seq;
    this.submitted.set(slot, seq);
    return seq;
  }

  /** The newest seq of every slot: what a flush called now waits for. */
  target(): ReadonlyMap<string, number> {
    return new Map(this.submitted);
  }

  /** The seq of the newest submission to the slot known written, 0 if none. */
  ackedSeq(slot: string): number {
    return this.acked.get(slot) ?? 0;
  }

  isFlushed(target: ReadonlyMap<string, number>): boolean {
    for (const [slot, seq] of target) if ((this.acked.get(slot) ?? 0) < seq) return false;
    return true;
  }

  ack(slot: string, seq: number): void {
    if ((this.acked.get(slot) ?? 0) < seq) this.acked.set(slot, seq);
  }

  /** Resolves once `target` is flushed; call `settle` after acks to check. */
  wait(target: ReadonlyMap<string, number>): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  /** Resolve the waiters whose targets are now written. */
  settle(): void {
    if (this.waiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const w of this.waiters) {
      if (this.isFlushed(w.target)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Reject every waiter, each with its own error from `reason`. */
  rejectAll(reason: () => Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(reason());
  }
}
