/**
 * etcd key names. They are GART's (GraphScope/GART) key names under a configurable prefix,
 * so tools written for GART and a user with `etcdctl` find the same keys. The names are part
 * of the external contract (DESIGN.md §6) and must never change.
 */
import { invalid } from '../src/errors.js';

/** GART's default prefix; `etcdctl get gart_meta_gart_latest_epoch_p0` works with it. */
export const DEFAULT_META_PREFIX = 'gart_meta_';

/** Machine, partition and epoch named by one blob key. */
export interface BlobKeyParts {
  readonly machine: number;
  readonly partition: number;
  readonly epoch: number;
}

/** The key names of one prefix. Every id argument must be a non-negative safe integer. */
export interface MetaKeys {
  readonly prefix: string;
  /** `{prefix}gart_blob_m{m}_p{p}_e{e}`: one sealed epoch of one partition. */
  blob(machine: number, partition: number, epoch: number): string;
  /** `{prefix}gart_blob_m{m}_p`: every blob key of one machine starts with this. */
  machineBlobPrefix(machine: number): string;
  /** `{prefix}gart_blob_`: every blob key starts with this. */
  blobPrefix(): string;
  /** `{prefix}gart_latest_epoch_p{p}`: the decimal latest epoch of a partition. */
  latestEpoch(partition: number): string;
  /** `{prefix}gart_schema_p{p}`. */
  schema(partition: number): string;
  /** `{prefix}writer_{p}_is_up`: `True` while the partition's writer holds its lease. */
  writerUp(partition: number): string;
  /** `{prefix}machines/m{m}`. */
  machine(machine: number): string;
  /** `{prefix}cluster`. */
  cluster(): string;
  /** The parts of a blob key of this prefix, or null if the key is not one. */
  parseBlob(key: string): BlobKeyParts | null;
}

/** Non-negative decimal without leading zeros, as the writer formats it. */
const DECIMAL = '(0|[1-9][0-9]*)';

function checkId(what: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${what} must be a non-negative safe integer, got ${String(v)}`);
  }
  return v;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Parse a decimal written by this module; null when it is not a canonical safe integer. */
function parseDecimal(s: string): number | null {
  const n = Number(s);
  return Number.isSafeInteger(n) && String(n) === s ? n : null;
}

/** Build the key names of one prefix. */
export function metaKeys(prefix: string = DEFAULT_META_PREFIX): MetaKeys {
  if (typeof prefix !== 'string') throw invalid('the metadata prefix must be a string');
  const blobRe = new RegExp(`^${escapeRegExp(prefix)}gart_blob_m${DECIMAL}_p${DECIMAL}_e${DECIMAL}$`);
  const keys: MetaKeys = {
    prefix,
    blob: (m, p, e) =>
      `${prefix}gart_blob_m${checkId('machine', m)}_p${checkId('partition', p)}_e${checkId('epoch', e)}`,
    machineBlobPrefix: (m) => `${prefix}gart_blob_m${checkId('machine', m)}_p`,
    blobPrefix: () => `${prefix}gart_blob_`,
    latestEpoch: (p) => `${prefix}gart_latest_epoch_p${checkId('partition', p)}`,
    schema: (p) => `${prefix}gart_schema_p${checkId('partition', p)}`,
    writerUp: (p) => `${prefix}writer_${checkId('partition', p)}_is_up`,
    machine: (m) => `${prefix}machines/m${checkId('machine', m)}`,
    cluster: () => `${prefix}cluster`,
    parseBlob(key) {
      const m = blobRe.exec(key);
      if (m === null) return null;
      const machine = parseDecimal(m[1]);
      const partition = parseDecimal(m[2]);
      const epoch = parseDecimal(m[3]);
      if (machine === null || partition === null || epoch === null) return null;
      return { machine, partition, epoch };
    },
  };
  return Object.freeze(keys);
}

/** The value of `writer_{p}_is_up`, spelled as GART spells it (a Python bool). */
export const WRITER_UP_VALUE = 'True';
