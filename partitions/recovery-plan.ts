/**
 * Which logged epochs recovery may replay. An epoch is committed when every partition that
 * logged records in it (its participants, written in each group's epoch record) holds it:
 * durably in its WAL, or inside its checkpoint. An epoch missing from one participant was
 * never made visible or acknowledged (a crash cut that participant's fsync), so replaying it
 * elsewhere would expose half a batch: it is skipped everywhere.
 *
 * Numbering continues after the highest epoch any partition logged or checkpointed, so an
 * epoch number is never reused, even a skipped one.
 */
export interface PartitionScan {
  checkpointEpoch: number;
  groups: readonly (readonly [number, readonly number[]])[];
}

export interface RecoveryPlan {
  /** Per partition: logged epochs not to replay. */
  skip: number[][];
  /** The epoch every partition is aligned to after replay (the machine's visible epoch). */
  alignEpoch: number;
}

export function planRecovery(scans: readonly PartitionScan[]): RecoveryPlan {
  const has = scans.map((s) => new Set(s.groups.map(([e]) => e)));
  const holds = (q: number, e: number) =>
    q >= 0 && q < scans.length && (e <= scans[q].checkpointEpoch || has[q].has(e));
  let alignEpoch = 0;
  const skip = scans.map((s) => {
    alignEpoch = Math.max(alignEpoch, s.checkpointEpoch);
    const out: number[] = [];
    for (const [e, participants] of s.groups) {
      alignEpoch = Math.max(alignEpoch, e);
      if (!participants.every((q) => holds(q, e))) out.push(e);
    }
    return out;
  });
  return { skip, alignEpoch };
}
