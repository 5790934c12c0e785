/**
 * Single-vertex reads open only the partition that owns the vertex, not a snapshot of every
 * partition, and at the latest epoch they reuse one open snapshot per partition.
 *
 * - The API keeps its own PartitionReader per partition, built once from the machine's
 *   descriptors (readers work in any thread from a descriptor and read the shared buffers
 *   directly).
 * - The epoch is always resolved through the machine first (its visible epochs), never taken
 *   from a partition's published epoch, which can be ahead of what is durable everywhere.
 * - Opening a snapshot registers a reader and refreshes the reader's views; for the hot path
 *   (many small reads of the latest epoch) that cost is paid once per epoch: the snapshot of
 *   the latest epoch stays open until a newer epoch becomes visible (the next seal event) or
 *   the app closes. A registered reader is exactly what keeps an epoch's memory reachable, so
 *   holding it is safe; holding only the latest epoch, and only until the next seal, keeps it
 *   from delaying reclamation. Reads run synchronously inside `read`, so a snapshot is never
 *   closed under a running read.
 */
import { type ExternalId, partitionOf } from '../src/model/ids.js';
import type { NeighborDirection } from '../src/storage/graph-snapshot.js';
import { PartitionReader, type Snapshot } from '../src/storage/index.js';
import type { ApiMachine } from './deps.js';

export class OwnerReads {
  private readers: PartitionReader[] | null = null;
  /** Open snapshots of the latest epoch, by partition (opened on first use). */
  private latest: (Snapshot | undefined)[] = [];
  private latestEpoch = -1;
  private readonly unsubscribe: () => unknown;
  private closed = false;

  constructor(private readonly machine: ApiMachine) {
    this.unsubscribe = machine.onSeal(() => this.release());
  }

  /** Run a synchronous read of the owner partition of `id` at a visible epoch. */
  read<T>(epoch: number, id: ExternalId, fn: (s: Snapshot) => T): T {
    if (this.readers === null) this.readers = this.machine.descriptors().map((d) => new PartitionReader(d));
    const p = partitionOf(id, this.readers.length);
    if (!this.closed && epoch === this.machine.latestEpoch) {
      if (epoch !== this.latestEpoch) this.release();
      let s = this.latest[p];
      if (s === undefined) {
        s = this.readers[p].open(epoch);
        this.latest[p] = s;
        this.latestEpoch = epoch;
      }
      return fn(s);
    }
    const s = this.readers[p].open(epoch);
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }

  /** Close the cached snapshots (a newer epoch is visible, or the app closes). */
  release(): void {
    for (const s of this.latest) s?.close();
    this.latest = [];
    this.latestEpoch = -1;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.release();
  }
}

/**
 * The whole neighbour list of a vertex in one direction (or both: out, then in), in the order
 * GraphSnapshot.neighbors pages it, when it has at most `limit` entries; null when it has more
 * (the caller pages it with GraphSnapshot.neighbors, which issues the cursor).
 */
export function smallNeighborList(
  s: Snapshot,
  lid: number,
  direction: NeighborDirection,
  labelIdx: number,
  limit: number,
): { neighbors: ExternalId[]; directions: ('out' | 'in')[] } | null {
  const both = direction === 'both';
  const first: 'out' | 'in' = both ? 'out' : direction;
  const firstCount = s.degree(lid, first, labelIdx);
  const count = both ? firstCount + s.degree(lid, 'in', labelIdx) : firstCount;
  if (count > limit) return null;
  const neighbors: ExternalId[] = [];
  const visit = (nbr: number) => {
    neighbors.push(s.externalId(nbr));
  };
  s.forEachNeighbor(lid, first, labelIdx, visit);
  if (both) s.forEachNeighbor(lid, 'in', labelIdx, visit);
  const directions: ('out' | 'in')[] = [];
  if (both) for (let i = 0; i < neighbors.length; i++) directions.push(i < firstCount ? 'out' : 'in');
  return { neighbors, directions };
}
