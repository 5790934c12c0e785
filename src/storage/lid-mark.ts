/**
 * Where the id index's allocation of local ids stood at a seal (id-index.ts has the segments
 * of owned ids and ghosts that this describes): what a seal asks to tell ids born in the open
 * epoch from older ones.
 */

/** Whether lid lies in an open segment's unassigned tail: [ownFrom, ownEnd) or [ghostFrom, ghostEnd). */
export function inOpenTails(
  lid: number,
  ownFrom: number,
  ownEnd: number,
  ghostFrom: number,
  ghostEnd: number,
): boolean {
  return (lid >= ownFrom && lid < ownEnd) || (lid >= ghostFrom && lid < ghostEnd);
}

/**
 * Where the id index's allocation stood at a seal. A local id assigned since then is "born"
 * (its vertex or ghost is newer than every published epoch): in a segment opened since, or
 * in the unassigned tail of a segment that was open then.
 */
export class LidMark {
  constructor(
    readonly top: number,
    readonly ownFrom: number,
    readonly ownEnd: number,
    readonly ghostFrom: number,
    readonly ghostEnd: number,
  ) {}

  /** True when `lid` was assigned after the mark. */
  isNew(lid: number): boolean {
    return lid >= this.top || inOpenTails(lid, this.ownFrom, this.ownEnd, this.ghostFrom, this.ghostEnd);
  }
}
