/**
 * The retire queue: memory that readers may still reach (blocks, extents, version nodes),
 * held in unlink order until no reader can reach it, then handed back to the arena.
 */

export const RETIRE_BLOCK = 0;
export const RETIRE_EXTENT = 1;
export const RETIRE_NODE = 2;

/** Where drained items go (the Arena). */
export interface Releaser {
  release(kind: number, owner: number, addr: number, size: number, gen: number): void;
}

/** FIFO of retired memory, struct-of-arrays so that retiring costs no allocation. */
export class RetireQueue {
  private kind = new Uint8Array(1024);
  private owner = new Uint32Array(1024);
  private addr = new Uint32Array(1024);
  private size = new Uint32Array(1024);
  private epoch = new Uint32Array(1024);
  private pub = new Uint32Array(1024);
  private gen = new Uint32Array(1024);
  private headIdx = 0;
  private tailIdx = 0;

  get length(): number {
    return this.tailIdx - this.headIdx;
  }

  /**
   * @param epoch readers at epochs < epoch may reach it (0: only the grace period matters)
   * @param pub the published epoch when it was unlinked
   */
  push(
    kind: number,
    owner: number,
    addr: number,
    size: number,
    epoch: number,
    pub: number,
    gen: number,
  ): void {
    if (this.tailIdx === this.kind.length) this.compactOrGrow();
    const i = this.tailIdx++;
    this.kind[i] = kind;
    this.owner[i] = owner;
    this.addr[i] = addr;
    this.size[i] = size;
    this.epoch[i] = epoch;
    this.pub[i] = pub;
    this.gen[i] = gen;
  }

  drain(oldest: number, minStart: number, arena: Releaser): number {
    let n = 0;
    while (this.headIdx < this.tailIdx) {
      const i = this.headIdx;
      if (this.epoch[i] > oldest || this.pub[i] >= minStart) break;
      arena.release(this.kind[i], this.owner[i], this.addr[i], this.size[i], this.gen[i]);
      this.headIdx++;
      n++;
    }
    if (this.headIdx === this.tailIdx) this.headIdx = this.tailIdx = 0;
    return n;
  }

  private compactOrGrow(): void {
    const live = this.tailIdx - this.headIdx;
    const cap = live * 2 > this.kind.length ? this.kind.length * 2 : this.kind.length;
    const move = <T extends Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(this.headIdx, this.tailIdx));
      return b;
    };
    this.kind = move(this.kind, (n) => new Uint8Array(n));
    this.owner = move(this.owner, (n) => new Uint32Array(n));
    this.addr = move(this.addr, (n) => new Uint32Array(n));
    this.size = move(this.size, (n) => new Uint32Array(n));
    this.epoch = move(this.epoch, (n) => new Uint32Array(n));
    this.pub = move(this.pub, (n) => new Uint32Array(n));
    this.gen = move(this.gen, (n) => new Uint32Array(n));
    this.headIdx = 0;
    this.tailIdx = live;
  }
}
