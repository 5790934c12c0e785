/**
 * The serve banner tells the truth about where things are: etcdctl gets `--endpoints` exactly
 * when etcd is not on its default port, in-process metadata says etcdctl cannot see it, and
 * a wildcard listen address becomes loopback in the curl lines. The test helper parses it.
 */
import { describe, expect, it } from 'vitest';
import { type BannerInfo, banner, etcdctlCommand } from '../../src/cli/banner.js';
import { parseBanner } from '../helpers/cli-process.js';

const base: BannerInfo = {
  version: '0.1.0',
  endpoint: 'http://127.0.0.1:7070',
  machine: 0,
  partitions: 2,
  dataDir: '/tmp/d',
  metaPrefix: 'gart_meta_',
  metaMode: 'managed',
  etcdEndpoints: ['http://127.0.0.1:2379'],
  latestEpoch: 4,
};

describe('banner', () => {
  it('leaves --endpoints out on the default port, and puts it in elsewhere', () => {
    expect(etcdctlCommand(base)).toBe('etcdctl');
    expect(etcdctlCommand({ ...base, etcdEndpoints: ['http://127.0.0.1:40001'] })).toBe(
      'etcdctl --endpoints=http://127.0.0.1:40001',
    );
    expect(etcdctlCommand({ ...base, etcdEndpoints: ['http://a:2379', 'http://b:2379'] })).toBe(
      'etcdctl --endpoints=http://a:2379,http://b:2379',
    );
    expect(etcdctlCommand({ ...base, etcdUsername: 'root', etcdCaFile: '/ca.pem' })).toBe(
      'etcdctl --user=root --cacert=/ca.pem',
    );
  });

  it('shows the listen address, the metadata and the commands to look at epochs', () => {
    const text = banner({ ...base, etcdEndpoints: ['http://127.0.0.1:40001'] });
    expect(text).toContain('epochgraph 0.1.0 serving on http://127.0.0.1:7070');
    expect(text).toContain('metadata: managed etcd (stopped with the daemon) at http://127.0.0.1:40001');
    expect(text).toContain(
      'latest epoch: etcdctl --endpoints=http://127.0.0.1:40001 get gart_meta_gart_latest_epoch_p0 --print-value-only',
    );
    expect(text).toContain('curl http://127.0.0.1:7070/v1/epochs');
    expect(text).toContain('load a graph:  epochgraph load FILE...\n');
    const parsed = parseBanner(text);
    expect(parsed).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      etcdEndpoints: ['http://127.0.0.1:40001'],
      etcdctlLatest:
        'etcdctl --endpoints=http://127.0.0.1:40001 get gart_meta_gart_latest_epoch_p0 --print-value-only',
      latestEpoch: 4,
    });
  });

  it('says when etcdctl cannot see the metadata', () => {
    const text = banner({ ...base, metaMode: 'in-process', etcdEndpoints: [] });
    expect(text).toContain('metadata: in-process');
    expect(text).toContain('etcdctl cannot see it');
    expect(text).not.toContain('etcdctl get');
    expect(parseBanner(text)?.etcdEndpoints).toEqual([]);
  });

  it('turns a wildcard listen address into loopback for curl, and names --server', () => {
    const text = banner({ ...base, endpoint: 'http://0.0.0.0:8080', metaPrefix: 'gart_meta_m1_' });
    expect(text).toContain('serving on http://0.0.0.0:8080');
    expect(text).toContain('curl http://127.0.0.1:8080/v1/epochs');
    expect(text).toContain('epochgraph load FILE... --server http://127.0.0.1:8080');
    expect(text).toContain('get gart_meta_m1_gart_latest_epoch_p0');
  });
});
