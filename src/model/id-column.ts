/**
 * An append-only column of external ids: a Float64Array while every id is an integer (the
 * msgpack wire form of an id column), a plain array once a string id arrives. Used by the
 * graph-file parsers (chunks of ids) and by the API's heavy reads (subgraph answers).
 */
import type { ExternalId } from './ids.js';

export class IdColumnBuilder {
  private nums: Float64Array;
  private mixed: ExternalId[] | null = null;
  length = 0;

  constructor(capacity = 1024) {
    this.nums = new Float64Array(Math.max(16, capacity));
  }

  push(id: ExternalId): void {
    if (this.mixed !== null) this.mixed.push(id);
    else if (typeof id === 'number') {
      if (this.length === this.nums.length) {
        const grown = new Float64Array(this.nums.length * 2);
        grown.set(this.nums);
        this.nums = grown;
      }
      this.nums[this.length] = id;
    } else {
      this.mixed = Array.from(this.nums.subarray(0, this.length));
      this.mixed.push(id);
    }
    this.length++;
  }

  /** The column so far: a view of the builder's Float64Array, or its array. */
  done(): Float64Array | ExternalId[] {
    return this.mixed ?? this.nums.subarray(0, this.length);
  }

  /** The column so far as a copy of its own, and an empty builder (for chunked output). */
  take(): Float64Array | ExternalId[] {
    const out = this.mixed ?? this.nums.slice(0, this.length);
    this.mixed = null;
    this.length = 0;
    return out;
  }
}
