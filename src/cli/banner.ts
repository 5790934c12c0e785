/**
 * The text `epochgraph serve` prints once it is ready: where the daemon listens, where its
 * metadata lives, and the exact commands to look at its epochs with etcdctl and with curl.
 */
import path from 'node:path';
import type { MetadataMode } from '../config.js';

/** etcdctl's default endpoint: the banner leaves `--endpoints` out when etcd is there. */
const ETCDCTL_DEFAULT_ENDPOINTS = new Set(['http://127.0.0.1:2379', 'http://localhost:2379']);

export interface BannerInfo {
  version: string;
  /** `http://host:port` as the daemon announces it. */
  endpoint: string;
  machine: number;
  partitions: number;
  dataDir: string;
  metaPrefix: string;
  metaMode: MetadataMode;
  /** etcd client URLs (empty in-process). */
  etcdEndpoints: readonly string[];
  latestEpoch: number;
  etcdUsername?: string;
  etcdCaFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
}

/** A URL a local curl can use: a wildcard listen address becomes loopback. */
export function localUrl(endpoint: string): string {
  return endpoint.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/** The etcdctl command prefix for these endpoints (and credentials, if any). */
export function etcdctlCommand(
  info: Pick<BannerInfo, 'etcdEndpoints' | 'etcdUsername' | 'etcdCaFile' | 'etcdCertFile' | 'etcdKeyFile'>,
): string {
  const parts = ['etcdctl'];
  const eps = info.etcdEndpoints;
  if (!(eps.length === 1 && ETCDCTL_DEFAULT_ENDPOINTS.has(eps[0])))
    parts.push(`--endpoints=${eps.join(',')}`);
  if (info.etcdUsername !== undefined) parts.push(`--user=${info.etcdUsername}`);
  if (info.etcdCaFile !== undefined) parts.push(`--cacert=${info.etcdCaFile}`);
  if (info.etcdCertFile !== undefined) parts.push(`--cert=${info.etcdCertFile}`);
  if (info.etcdKeyFile !== undefined) parts.push(`--key=${info.etcdKeyFile}`);
  return parts.join(' ');
}

export function banner(info: BannerInfo): string {
  const url = localUrl(info.endpoint);
  const p = info.metaPrefix;
  const lines = [
    `epochgraph ${info.version} serving on ${info.endpoint}`,
    `  machine ${info.machine}, ${info.partitions} partition${info.partitions === 1 ? '' : 's'}, data in ${path.resolve(info.dataDir)}, latest epoch ${info.latestEpoch}`,
  ];
  if (info.metaMode === 'in-process') {
    lines.push(
      'metadata: in-process (no etcd binary on PATH and no --etcd), so etcdctl cannot see it;',
      '  install etcd (apt-get install etcd-server etcd-client) or pass --etcd URL to publish epochs to etcd',
    );
  } else {
    const what = info.metaMode === 'managed' ? 'managed etcd (stopped with the daemon)' : 'etcd';
    const ctl = etcdctlCommand(info);
    lines.push(
      `metadata: ${what} at ${info.etcdEndpoints.join(',')}, key prefix ${p}`,
      `  latest epoch: ${ctl} get ${p}gart_latest_epoch_p0 --print-value-only`,
      `  epoch keys:   ${ctl} get --prefix ${p}gart_blob_m${info.machine}_p0_e --keys-only`,
    );
  }
  lines.push(
    'HTTP:',
    `  epochs:       curl ${url}/v1/epochs`,
    `  neighbours:   curl ${url}/v1/snapshots/latest/vertices/1/neighbors`,
    `  API docs:     ${url}/docs`,
    `load a graph:  epochgraph load FILE...${url === 'http://127.0.0.1:7070' ? '' : ` --server ${url}`}`,
    'stop: Ctrl-C or SIGTERM (seals, fsyncs and deregisters first)',
  );
  return `${lines.join('\n')}\n`;
}
