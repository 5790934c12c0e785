/**
 * The JSON values stored under the metadata keys (DESIGN.md §6), with checked decoders.
 * Values read back from etcd were written by other processes, other versions or a user with
 * etcdctl, so nothing read is trusted before it passes these schemas.
 */
import { z } from 'zod';
import { invalid } from '../src/errors.js';

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const isoTime = z.string().min(1);

const clusterSchema = z.object({
  partitions: count.min(1),
  epochMs: z.number().positive(),
  createdAt: isoTime,
});

/** `{prefix}cluster`: written once, when the cluster is created. */
export type ClusterRecord = Readonly<z.infer<typeof clusterSchema>>;

const machineSchema = z.object({
  endpoint: z.string(),
  partitions: z.array(count),
  pid: count,
  startedAt: isoTime,
});

/** `{prefix}machines/m{m}`: held on the machine's lease. */
export type MachineRecord = Readonly<z.infer<typeof machineSchema>>;

const blobSchema = z.object({
  'machine id': count,
  fid: count,
  fnum: count.min(1),
  epoch: count,
  timestamp: count,
  sealedAt: isoTime,
  total_vertex_num: count,
  total_edge_num: count,
  endpoint: z.string(),
});

/** `{prefix}gart_blob_m{m}_p{p}_e{e}`: one sealed epoch of one partition, in GART's field names. */
export type BlobRecord = Readonly<z.infer<typeof blobSchema>>;

function decodeJson<T>(schema: z.ZodType<T>, what: string, text: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(`${what} is not JSON: ${(err as Error).message}`, { value: text.slice(0, 200) });
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    throw invalid(`${what} is malformed: ${z.prettifyError(r.error)}`, { value: text.slice(0, 200) });
  }
  return Object.freeze(r.data);
}

/** Decode a cluster record; throws INVALID_REQUEST naming `where` if it is malformed. */
export function decodeClusterRecord(text: string, where: string): ClusterRecord {
  return decodeJson(clusterSchema, `the cluster record at ${where}`, text);
}

/** Decode a machine record; throws INVALID_REQUEST naming `where` if it is malformed. */
export function decodeMachineRecord(text: string, where: string): MachineRecord {
  return decodeJson(machineSchema, `the machine record at ${where}`, text);
}

/** Decode a blob record; throws INVALID_REQUEST naming `where` if it is malformed. */
export function decodeBlobRecord(text: string, where: string): BlobRecord {
  return decodeJson(blobSchema, `the blob record at ${where}`, text);
}

/**
 * Parse a stored `gart_latest_epoch_p{p}` value. Anything but a canonical non-negative
 * decimal is null: such a value was not written by an epochgraph publisher, and the
 * publisher then overwrites it rather than comparing against garbage.
 */
export function parseEpochValue(text: string): number | null {
  const t = text.trim();
  if (!/^(0|[1-9][0-9]*)$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}
