/**
 * Subscribers to one kind of machine event (seal events, checkpoint reports): each is called
 * in turn, and one that throws is logged and does not keep the event from the others.
 */
import type { HandleLogger } from './partition-handle.js';

export class Listeners<A extends unknown[]> {
  private readonly fns = new Set<(...args: A) => void>();

  /** `what` names the event in the log line of a listener that throws. */
  constructor(
    private readonly log: HandleLogger,
    private readonly what: string,
  ) {}

  /** Subscribe; returns the unsubscribe function. */
  add(fn: (...args: A) => void): () => void {
    this.fns.add(fn);
    return () => {
      this.fns.delete(fn);
    };
  }

  emit(...args: A): void {
    for (const fn of this.fns) {
      try {
        fn(...args);
      } catch (err) {
        this.log.error(`${this.what} listener failed: ${(err as Error).message}`);
      }
    }
  }
}
