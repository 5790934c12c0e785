/**
 * The dirty log of a record table (record-table.ts): the items changed in the open epoch, as
 * a sparse set that a seal reads in order and empties at once.
 *
 * Each entry holds the item and a copy of its writer state, taken at every change (mark runs
 * after each change, while the item's writer state is in cache), and the item's W_SLOT names
 * its entry. So a seal reads the log in order and misses only on the records it rewrites, not
 * on the writer state as well, and it clears nothing per item: emptying the log ends the
 * epoch. Membership needs no clearing either: W_AUX carries the generation (seal count) in
 * which the item last joined, so a stale slot is recognised without reading the entry.
 *
 * Writer-private: nothing here is read by another thread.
 */

import * as layout from './layout.js';

// Module-local copy of an imported constant (see layout.ts: V8 folds these, not imports).
const { RECORD_BITS } = layout;

/** Writer state per item, interleaved (16 bytes, aligned) so that an item is one cache line. */
export const W_HEAD = 0;
export const W_COUNT = 1;
export const W_AUX = 2;
/** The item's dirty-log entry; meaningful only while that entry names the item. */
export const W_SLOT = 3;
export const W_STRIDE = 4;
/** W_AUX bits: low 7 = owner's size class; then flags. */
export const AUX_CLASS = 0x7f;
export const AUX_STAMPED = 0x80;
/**
 * In a dirty-log entry's aux only (never in `w`): the writer's block was written in the open
 * epoch and is not published (free it at once). Emptying the log at a seal clears it.
 */
const AUX_PRIVATE = 0x200;
/**
 * W_AUX bits from GEN_SHIFT up: the seal generation in which the item last joined the dirty
 * log. An item from an older generation is not in the log, which mark then learns without
 * reading the log entry its stale slot names (a random read in a large log).
 */
const GEN_SHIFT = 10;
const GEN_MASK = (1 << (32 - GEN_SHIFT)) - 1;
const AUX_LOW = (1 << GEN_SHIFT) - 1;

/** Dirty-log entry: the item, then a copy of its writer state. */
export const L_ITEM = 0;
export const L_HEAD = 1;
export const L_COUNT = 2;
export const L_AUX = 3;
export const L_STRIDE = 4;
/** Words of dirty log (and of its sorted copy) a table keeps however small its epochs. */
const LOG_KEEP_WORDS = (1 << 16) * L_STRIDE;

/** The items changed in the open epoch of one record table. */
export class DirtyLog {
  /** L_STRIDE words per entry, in order of first change. */
  private log = new Uint32Array(1024 * L_STRIDE);
  /** The entries grouped by record block, for the seal (grouped). */
  private sorted = new Uint32Array(1024 * L_STRIDE);
  /** Entries in the log. */
  count = 0;
  /** The open epoch's generation (see GEN_SHIFT); it moves on when the log is emptied. */
  private gen = 1;

  /**
   * Record that `item` (writer state at w[item * W_STRIDE]) changed: copy that state into its
   * entry, adding one if the item is not in the log. `fresh` says whether the writer's block
   * was written in this epoch (true after a move to a new block, false after a move to none);
   * left out, that stays as it was.
   */
  mark(w: Uint32Array<ArrayBufferLike>, item: number, fresh?: boolean): void {
    const wi = item * W_STRIDE;
    let l = w[wi + W_SLOT] * L_STRIDE;
    let log = this.log;
    let priv = 0;
    if (!this.inLog(w[wi + W_AUX], l, item)) {
      if (this.count * L_STRIDE === log.length) {
        log = new Uint32Array(log.length * 2);
        log.set(this.log);
        this.log = log;
      }
      w[wi + W_SLOT] = this.count;
      w[wi + W_AUX] = (w[wi + W_AUX] & AUX_LOW) | (this.gen << GEN_SHIFT);
      l = this.count++ * L_STRIDE;
      log[l + L_ITEM] = item;
    } else priv = log[l + L_AUX] & AUX_PRIVATE;
    if (fresh !== undefined) priv = fresh ? AUX_PRIVATE : 0;
    log[l + L_HEAD] = w[wi + W_HEAD];
    log[l + L_COUNT] = w[wi + W_COUNT];
    log[l + L_AUX] = w[wi + W_AUX] | priv;
  }

  /** Whether `item` is in the log. */
  has(w: Uint32Array<ArrayBufferLike>, item: number): boolean {
    const wi = item * W_STRIDE;
    return this.inLog(w[wi + W_AUX], w[wi + W_SLOT] * L_STRIDE, item);
  }

  /** Whether `item` is in the log with a block written in the open epoch (see mark). */
  isPrivate(w: Uint32Array<ArrayBufferLike>, item: number): boolean {
    const wi = item * W_STRIDE;
    const l = w[wi + W_SLOT] * L_STRIDE;
    return this.inLog(w[wi + W_AUX], l, item) && (this.log[l + L_AUX] & AUX_PRIVATE) !== 0;
  }

  /**
   * Whether the item with writer aux `aux` is in the log at word `l`: it joined in this
   * generation (else it cannot be, and the log is not read) and the entry names it (the
   * generation wraps after 2^22 seals, so it alone does not prove it).
   */
  private inLog(aux: number, l: number, item: number): boolean {
    return aux >>> GEN_SHIFT === this.gen && l < this.count * L_STRIDE && this.log[l + L_ITEM] === item;
  }

  /**
   * The entries grouped by record block (a counting sort on the block; `items` bounds the
   * item numbers), so the seal takes a block's sequence lock once per touch window. Within a
   * block the order is the order of change: sorting it too (a bitmap pass) cost more in small
   * seals than it saved in bulk ones.
   */
  grouped(items: number): Uint32Array {
    const n = this.count;
    const blocks = (items >>> RECORD_BITS) + 1;
    const counts = new Uint32Array(blocks + 1);
    countByBlock(this.log, n, counts);
    for (let b = 0; b < blocks; b++) counts[b + 1] += counts[b];
    if (this.sorted.length < n * L_STRIDE) {
      this.sorted = new Uint32Array(Math.max(n * L_STRIDE, this.sorted.length * 2));
    }
    scatterByBlock(this.log, n, counts, this.sorted);
    return this.sorted;
  }

  /**
   * Empty the log: the epoch ended. A large epoch (a bulk load, a restore) grew the log and
   * its sorted copy; the memory goes back once an epoch uses under a quarter of them. (Stale
   * slots past the new end are never read: membership tests the slot against the count first.)
   */
  clear(): void {
    const n = this.count;
    this.count = 0;
    this.gen = (this.gen + 1) & GEN_MASK;
    if (this.log.length > LOG_KEEP_WORDS && n * L_STRIDE * 4 < this.log.length) {
      this.log = new Uint32Array(Math.max(LOG_KEEP_WORDS, 2 * n * L_STRIDE));
      this.sorted = new Uint32Array(this.log.length);
    }
  }
}

/*
 * grouped's two passes over the log, each a function of its own. In one function, V8
 * optimized it on stack (OSR) inside the first pass, before the rest had run; that code was
 * entered again at later calls and deoptimized at the same place each time (21 times per
 * partition worker in a 5M-edge durable load, `--trace-deopt`).
 */

/** counts[b + 1] += the log entries of record block b, for the n entries of `log`. */
function countByBlock(log: Uint32Array, n: number, counts: Uint32Array): void {
  for (let l = 0; l < n * L_STRIDE; l += L_STRIDE) counts[(log[l + L_ITEM] >>> RECORD_BITS) + 1]++;
}

/** Copy log's n entries into `out`, block b's from counts[b] on (their order kept). */
function scatterByBlock(log: Uint32Array, n: number, counts: Uint32Array, out: Uint32Array): void {
  for (let l = 0; l < n * L_STRIDE; l += L_STRIDE) {
    const o = counts[log[l + L_ITEM] >>> RECORD_BITS]++ * L_STRIDE;
    out[o + L_ITEM] = log[l + L_ITEM];
    out[o + L_HEAD] = log[l + L_HEAD];
    out[o + L_COUNT] = log[l + L_COUNT];
    out[o + L_AUX] = log[l + L_AUX];
  }
}
