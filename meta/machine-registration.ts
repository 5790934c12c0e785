/**
 * The machine's presence in etcd: `machines/m{m}` and `writer_{p}_is_up` on one lease.
 *
 * The lease is how other machines and users learn that a writer died: when the daemon is
 * killed, keepalives stop and etcd deletes the keys after the TTL. The client keeps the
 * lease alive (a keepalive every TTL/3). If the lease is lost anyway (someone revoked it,
 * or etcd was unreachable for longer than the TTL and let it expire), the registration is
 * written again on a new lease, retrying with backoff until etcd answers, for as long as
 * the store is open.
 */
import { EpochgraphError, invalid } from '../src/errors.js';
import { describeEtcdError, type EtcdErrorContext } from './etcd-errors.js';
import { type MetaKeys, WRITER_UP_VALUE } from './keys.js';
import { type KvBackend, type KvLease, type KvWrite, MAX_TXN_OPS } from './kv-backend.js';
import type { MetaLogger } from './logger.js';
import type { MachineRecord } from './records.js';

/** Default lease TTL: a dead writer's keys vanish within this long. */
export const DEFAULT_LEASE_TTL_SEC = 10;
const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 1000;
/** Bound on revoking at close, so a dead etcd cannot hold up shutdown. */
export const REVOKE_TIMEOUT_MS = 1000;

/** What `register()` announces. */
export interface MachineRegistration {
  readonly machine: number;
  /** The daemon's HTTP endpoint, `http://host:port`. */
  readonly endpoint: string;
  /** Local partitions; each gets `writer_{p}_is_up`. */
  readonly partitions: readonly number[];
  readonly pid: number;
  /** ISO time the daemon started. */
  readonly startedAt: string;
}

export interface RegistrationStats {
  readonly registered: boolean;
  /** Decimal lease id of the current registration, null when there is none. */
  readonly leaseId: string | null;
  /** Times the registration was written again after losing its lease. */
  readonly reRegistrations: number;
}

function checkRegistration(reg: MachineRegistration): void {
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!ok(reg.machine)) throw invalid(`machine must be a non-negative safe integer, got ${reg.machine}`);
  if (!ok(reg.pid)) throw invalid(`pid must be a non-negative safe integer, got ${reg.pid}`);
  if (typeof reg.endpoint !== 'string') throw invalid('endpoint must be a string');
  if (typeof reg.startedAt !== 'string' || Number.isNaN(Date.parse(reg.startedAt))) {
    throw invalid(`startedAt must be an ISO time, got ${String(reg.startedAt)}`);
  }
  for (const p of reg.partitions)
    if (!ok(p)) throw invalid(`partition must be a non-negative safe integer, got ${p}`);
  if (new Set(reg.partitions).size !== reg.partitions.length) throw invalid('partitions must not repeat');
}

export class MachineRegistrar {
  private current: MachineRegistration | null = null;
  private lease: KvLease | null = null;
  private retrying = false;
  private closed = false;
  private reRegistrations = 0;

  constructor(
    private readonly kv: KvBackend,
    private readonly keys: MetaKeys,
    private readonly ttlSec: number,
    private readonly logger: MetaLogger,
    private readonly errorContext: Omit<EtcdErrorContext, 'doing'>,
  ) {
    if (!Number.isSafeInteger(ttlSec) || ttlSec < 1) {
      throw invalid(`the lease TTL must be a whole number of seconds ≥ 1, got ${ttlSec}`);
    }
  }

  /**
   * Write the registration on a new lease. Resolves once it is in the store; throws if the
   * first write fails (the caller decides whether to start without it). After that, a lost
   * lease is replaced automatically.
   */
  async register(reg: MachineRegistration): Promise<void> {
    checkRegistration(reg);
    if (this.closed) throw new EpochgraphError('NOT_READY', 'the metadata store is closed');
    try {
      await this.write(reg);
    } catch (err) {
      throw describeEtcdError(err, { ...this.errorContext, doing: `registering machine ${reg.machine}` });
    }
    this.current = reg;
  }

  stats(): RegistrationStats {
    return {
      registered: this.lease !== null,
      leaseId: this.lease?.id ?? null,
      reRegistrations: this.reRegistrations,
    };
  }

  /** Revoke the lease, so the writer keys vanish now rather than after the TTL. */
  async close(): Promise<void> {
    this.closed = true;
    const lease = this.lease;
    this.lease = null;
    if (lease !== null) await lease.revoke(REVOKE_TIMEOUT_MS);
  }

  private async write(reg: MachineRegistration): Promise<void> {
    const lease = await this.kv.grantLease(this.ttlSec);
    const record: MachineRecord = {
      endpoint: reg.endpoint,
      partitions: [...reg.partitions],
      pid: reg.pid,
      startedAt: reg.startedAt,
    };
    const writes: KvWrite[] = [
      { kind: 'put', key: this.keys.machine(reg.machine), value: JSON.stringify(record), lease: lease.id },
      ...reg.partitions.map(
        (p): KvWrite => ({
          kind: 'put',
          key: this.keys.writerUp(p),
          value: WRITER_UP_VALUE,
          lease: lease.id,
        }),
      ),
    ];
    try {
      for (let i = 0; i < writes.length; i += MAX_TXN_OPS) {
        await this.kv.txn({ compares: [], writes: writes.slice(i, i + MAX_TXN_OPS), readsOnFailure: [] });
      }
    } catch (err) {
      await lease.revoke(REVOKE_TIMEOUT_MS).catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await lease.revoke(REVOKE_TIMEOUT_MS).catch(() => undefined);
      return;
    }
    // A second register() (say, with other partitions) replaces the old lease; revoking it
    // removes keys the new registration no longer has, and stops its keepalives.
    const previous = this.lease;
    this.lease = lease;
    lease.onLost((err) => this.onLost(lease, err));
    if (previous !== null) await previous.revoke(REVOKE_TIMEOUT_MS).catch(() => undefined);
  }

  private onLost(lease: KvLease, err: Error): void {
    if (this.closed || this.lease !== lease) return;
    this.lease = null;
    this.logger.warn('the machine lease was lost; registering again', {
      leaseId: lease.id,
      error: err.message,
    });
    void this.retry();
  }

  private async retry(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    let delay = RETRY_INITIAL_MS;
    let attempts = 0;
    try {
      while (!this.closed && this.lease === null && this.current !== null) {
        attempts++;
        try {
          await this.write(this.current);
          this.reRegistrations++;
          this.logger.info('machine registered again on a new lease', {
            machine: this.current.machine,
            leaseId: this.stats().leaseId,
          });
        } catch (err) {
          // Once is enough to say etcd is away; success is logged when it returns.
          if (attempts === 1) {
            this.logger.warn('re-registration failed; retrying until etcd answers', {
              error: err instanceof Error ? err.message : String(err),
            });
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, RETRY_MAX_MS);
        }
      }
    } finally {
      this.retrying = false;
    }
  }
}
