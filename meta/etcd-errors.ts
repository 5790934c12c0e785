/**
 * Turns etcd3 client errors into epochgraph errors whose message says what the operator must
 * fix: the endpoints that could not be reached, or the user whose credentials or role etcd
 * rejected. The daemon prints these messages when it refuses to start.
 */
import {
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
} from 'etcd3';
import { EpochgraphError } from '../src/errors.js';

export interface EtcdErrorContext {
  readonly endpoints: readonly string[];
  readonly username?: string;
  /** The metadata key prefix, for the advice on permissions. */
  readonly prefix: string;
  /** What the store was doing, for the message: "creating the cluster record". */
  readonly doing: string;
}

/** True when the error means etcd could not be reached (as opposed to a refusal). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError;
}

/** A clear EpochgraphError for an error thrown by the etcd3 client. */
export function describeEtcdError(err: unknown, ctx: EtcdErrorContext): EpochgraphError {
  if (err instanceof EpochgraphError) return err;
  const at = ctx.endpoints.join(',');
  const cause = err instanceof Error ? err.message : String(err);
  const details = { endpoints: [...ctx.endpoints], cause };
  if (err instanceof EtcdAuthenticationFailedError || err instanceof GRPCUnauthenticatedError) {
    const who = ctx.username === undefined ? 'without credentials' : `as user "${ctx.username}"`;
    return new EpochgraphError(
      'INVALID_REQUEST',
      `etcd at ${at} rejected authentication ${who} while ${ctx.doing}: ${cause}`,
      details,
    );
  }
  if (err instanceof EtcdPermissionDeniedError || /user name is empty|permission denied/i.test(cause)) {
    const fix =
      ctx.username === undefined
        ? 'etcd has authentication enabled: give the daemon a username and password'
        : `grant a role of user "${ctx.username}" readwrite on the key prefix "${ctx.prefix}"`;
    const who = ctx.username === undefined ? 'an unauthenticated client' : `user "${ctx.username}"`;
    return new EpochgraphError(
      'INVALID_REQUEST',
      `etcd at ${at} denied ${who} while ${ctx.doing}: ${cause} (${fix})`,
      details,
    );
  }
  if (isUnreachable(err)) {
    return new EpochgraphError(
      'NOT_READY',
      `etcd at ${at} is unreachable while ${ctx.doing}: ${cause}`,
      details,
    );
  }
  return new EpochgraphError('INTERNAL', `etcd at ${at} failed while ${ctx.doing}: ${cause}`, details);
}
