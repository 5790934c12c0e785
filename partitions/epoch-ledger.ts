/**
 * The machine's record of its visible epochs: when each was sealed and what it held, which
 * epoch was current at a given time (asOf), and what is retained: every epoch sealed within
 * retainMs (plus the one that was current when that window began), and every pinned epoch.
 */
import { randomUUID } from 'node:crypto';
import { EpochgraphError, epochGone, epochNotFound } from '../src/errors.js';

export interface PartitionCounts {
  partition: number;
  vertices: number;
  edges: number;
}

export interface EpochInfo {
  epoch: number;
  sealedAtMs: number;
  vertices: number;
  edges: number;
  partitions: PartitionCounts[];
}

/** An epoch's info from its partitions' counts (the totals are their sums). */
export function epochInfoOf(epoch: number, sealedAtMs: number, partitions: PartitionCounts[]): EpochInfo {
  let vertices = 0;
  let edges = 0;
  for (const p of partitions) {
    vertices += p.vertices;
    edges += p.edges;
  }
  return { epoch, sealedAtMs, vertices, edges, partitions };
}

export interface Pin {
  id: string;
  epoch: number;
  expiresAtMs: number;
}

export const MAX_PIN_TTL_MS = 24 * 3600 * 1000;
export const MAX_PINS = 10_000;

export class EpochLedger {
  private readonly infos: EpochInfo[] = [];
  private readonly pins = new Map<string, Pin>();
  private floor = 0;

  constructor(readonly retainMs: number) {}

  /** Record a newly visible epoch (epochs arrive in increasing order). */
  record(info: EpochInfo): void {
    const last = this.infos[this.infos.length - 1];
    if (last !== undefined && info.epoch <= last.epoch) {
      throw new EpochgraphError('INTERNAL', `epoch ${info.epoch} recorded after ${last.epoch}`);
    }
    this.infos.push(info);
  }

  get latest(): number {
    return this.infos[this.infos.length - 1]?.epoch ?? 0;
  }

  /** The oldest epoch still readable. */
  get oldest(): number {
    return Math.max(this.floor, this.infos[0]?.epoch ?? 0);
  }

  /** The state at epoch e is the newest sealed epoch ≤ e. */
  resolve(e: number): EpochInfo {
    if (e > this.latest) throw epochNotFound(e, this.latest);
    if (e < this.oldest) throw epochGone(e, this.oldest);
    let lo = 0;
    let hi = this.infos.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.infos[mid].epoch <= e) lo = mid;
      else hi = mid - 1;
    }
    return this.infos[lo];
  }

  /** The newest epoch sealed at or before timeMs. */
  asOf(timeMs: number): EpochInfo {
    let found: EpochInfo | undefined;
    for (let i = this.infos.length - 1; i >= 0; i--) {
      if (this.infos[i].sealedAtMs <= timeMs) {
        found = this.infos[i];
        break;
      }
    }
    if (found === undefined || found.epoch < this.oldest) {
      throw new EpochgraphError(
        'EPOCH_GONE',
        `no retained epoch was sealed at or before ${new Date(timeMs).toISOString()}`,
        {
          asOf: new Date(timeMs).toISOString(),
          oldest: this.oldest,
        },
      );
    }
    return found;
  }

  list(): readonly EpochInfo[] {
    return this.infos;
  }

  /**
   * The oldest epoch to retain now: the epoch that was current retainMs ago (so any time in
   * the window resolves), lowered to the oldest live pin. Never moves backwards.
   */
  retentionFloor(nowMs: number): number {
    this.expirePins(nowMs);
    const windowStart = nowMs - this.retainMs;
    let floor = this.infos[0]?.epoch ?? 0;
    for (const i of this.infos) {
      if (i.sealedAtMs <= windowStart) floor = i.epoch;
      else break;
    }
    for (const p of this.pins.values()) floor = Math.min(floor, p.epoch);
    this.floor = Math.max(this.floor, floor);
    while (this.infos.length > 1 && this.infos[1].epoch <= this.floor) this.infos.shift();
    return this.floor;
  }

  pin(epoch: number | undefined, ttlMs: number, nowMs: number): Pin {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_PIN_TTL_MS) {
      throw new EpochgraphError('INVALID_REQUEST', `ttlMs must be an integer in (0, ${MAX_PIN_TTL_MS}]`);
    }
    this.expirePins(nowMs);
    if (this.pins.size >= MAX_PINS)
      throw new EpochgraphError('NOT_READY', `too many pins (${MAX_PINS}); delete some`);
    const e = this.resolve(epoch ?? this.latest).epoch;
    const pin = { id: randomUUID(), epoch: e, expiresAtMs: nowMs + ttlMs };
    this.pins.set(pin.id, pin);
    return pin;
  }

  unpin(id: string): boolean {
    return this.pins.delete(id);
  }

  getPin(id: string): Pin | undefined {
    return this.pins.get(id);
  }

  private expirePins(nowMs: number): void {
    for (const [id, p] of this.pins) if (p.expiresAtMs <= nowMs) this.pins.delete(id);
  }
}
