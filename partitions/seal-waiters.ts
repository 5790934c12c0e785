/**
 * Batches waiting for the seal of the epoch they landed in. A batch is acknowledged only when
 * its epoch is sealed, durable on every partition and visible; until then its answer waits
 * here, by epoch, with the counts of what it applied.
 */
import type { EpochgraphError } from '../src/errors.js';
import type { AppliedCounts } from '../src/model/ops.js';

/** The answer to an acknowledged batch. */
export interface SubmitResult {
  epoch: number;
  applied: AppliedCounts;
}

export interface SealWaiter {
  resolve: (r: SubmitResult) => void;
  reject: (e: EpochgraphError) => void;
  /** The batch's counts; the same object identifies the waiter (see drop). */
  applied: AppliedCounts;
}

export class SealWaiters {
  private readonly byEpoch = new Map<number, SealWaiter[]>();

  /** The answer of a batch in `epoch`, once that epoch is settled. */
  wait(epoch: number, applied: AppliedCounts): Promise<SubmitResult> {
    return new Promise<SubmitResult>((resolve, reject) => {
      let list = this.byEpoch.get(epoch);
      if (list === undefined) this.byEpoch.set(epoch, (list = []));
      list.push({ resolve, reject, applied });
    });
  }

  /** Forget the waiter of a batch that failed before its epoch was sealed. */
  drop(epoch: number, applied: AppliedCounts): void {
    const list = this.byEpoch.get(epoch);
    if (list === undefined) return;
    const i = list.findIndex((w) => w.applied === applied);
    if (i >= 0) list.splice(i, 1);
  }

  /** Remove and return the waiters of a sealed (or failed) epoch. */
  take(epoch: number): SealWaiter[] {
    const list = this.byEpoch.get(epoch) ?? [];
    this.byEpoch.delete(epoch);
    return list;
  }

  /** Reject every waiter (writes stopped). */
  rejectAll(err: () => EpochgraphError): void {
    for (const list of this.byEpoch.values()) for (const w of list) w.reject(err());
    this.byEpoch.clear();
  }
}
