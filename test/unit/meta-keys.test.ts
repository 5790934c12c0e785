import { describe, expect, it } from 'vitest';
import { DEFAULT_META_PREFIX, metaKeys, WRITER_UP_VALUE } from '../../meta/keys.js';
import {
  decodeBlobRecord,
  decodeClusterRecord,
  decodeMachineRecord,
  parseEpochValue,
} from '../../meta/records.js';
import { EpochgraphError } from '../../src/errors.js';

describe('meta key names', () => {
  const k = metaKeys();

  it('spells GART key names under the default prefix', () => {
    expect(DEFAULT_META_PREFIX).toBe('gart_meta_');
    expect(k.blob(0, 1, 42)).toBe('gart_meta_gart_blob_m0_p1_e42');
    expect(k.latestEpoch(1)).toBe('gart_meta_gart_latest_epoch_p1');
    expect(k.schema(3)).toBe('gart_meta_gart_schema_p3');
    expect(k.writerUp(2)).toBe('gart_meta_writer_2_is_up');
    expect(k.machine(7)).toBe('gart_meta_machines/m7');
    expect(k.cluster()).toBe('gart_meta_cluster');
    expect(k.machineBlobPrefix(0)).toBe('gart_meta_gart_blob_m0_p');
    expect(WRITER_UP_VALUE).toBe('True');
  });

  it('uses a custom prefix verbatim', () => {
    const c = metaKeys('team.a/');
    expect(c.blob(1, 2, 3)).toBe('team.a/gart_blob_m1_p2_e3');
    expect(c.cluster()).toBe('team.a/cluster');
  });

  it('parses blob keys it wrote, including large epochs', () => {
    expect(k.parseBlob('gart_meta_gart_blob_m0_p1_e42')).toEqual({ machine: 0, partition: 1, epoch: 42 });
    const big = Number.MAX_SAFE_INTEGER;
    expect(k.parseBlob(k.blob(12, 34, big))).toEqual({ machine: 12, partition: 34, epoch: big });
  });

  it('rejects keys that are not blob keys of this prefix', () => {
    expect(k.parseBlob('gart_meta_gart_latest_epoch_p1')).toBeNull();
    expect(k.parseBlob('other_gart_blob_m0_p1_e42')).toBeNull();
    expect(k.parseBlob('gart_meta_gart_blob_m0_p1_e42x')).toBeNull();
    expect(k.parseBlob('gart_meta_gart_blob_m0_p1_e')).toBeNull();
    expect(k.parseBlob('gart_meta_gart_blob_m00_p1_e4')).toBeNull(); // not written with leading zeros
    expect(k.parseBlob('gart_meta_gart_blob_m0_p1_e99999999999999999999')).toBeNull(); // beyond 2^53
    // regex characters in the prefix are literal
    expect(metaKeys('a.b_').parseBlob('aXb_gart_blob_m0_p0_e1')).toBeNull();
    expect(metaKeys('a.b_').parseBlob('a.b_gart_blob_m0_p0_e1')).toEqual({
      machine: 0,
      partition: 0,
      epoch: 1,
    });
  });

  it('refuses ids that are not non-negative safe integers', () => {
    expect(() => k.blob(-1, 0, 0)).toThrow(EpochgraphError);
    expect(() => k.blob(0, 1.5, 0)).toThrow(/partition must be a non-negative safe integer/);
    expect(() => k.latestEpoch(Number.NaN)).toThrow(/partition/);
    expect(() => k.blob(0, 0, 2 ** 53)).toThrow(/epoch/);
  });
});

describe('meta records', () => {
  it('decodes a blob record with every GART field and ignores extra fields', () => {
    const text = JSON.stringify({
      'machine id': 0,
      fid: 1,
      fnum: 2,
      epoch: 5,
      timestamp: 1_700_000_000,
      sealedAt: '2023-11-14T22:13:20.000Z',
      total_vertex_num: 10,
      total_edge_num: 20,
      endpoint: 'http://127.0.0.1:7070',
      extra: true,
    });
    const r = decodeBlobRecord(text, 'k');
    expect(r.epoch).toBe(5);
    expect(r['machine id']).toBe(0);
    expect('extra' in r).toBe(false);
  });

  it('names the key and the field of a malformed record', () => {
    expect(() =>
      decodeClusterRecord('{"partitions":0,"epochMs":50,"createdAt":"x"}', 'gart_meta_cluster'),
    ).toThrow(/gart_meta_cluster is malformed[\s\S]*partitions/);
    expect(() => decodeClusterRecord('not json', 'gart_meta_cluster')).toThrow(
      /gart_meta_cluster is not JSON/,
    );
    expect(() => decodeMachineRecord('{"endpoint":1}', 'm')).toThrow(/machine record at m is malformed/);
    expect(() => decodeBlobRecord('[]', 'b')).toThrow(EpochgraphError);
  });

  it('parses latest-epoch values as numbers, not bytes', () => {
    expect(parseEpochValue('10')).toBe(10);
    expect(parseEpochValue(' 9\n')).toBe(9);
    expect(parseEpochValue('0')).toBe(0);
    for (const bad of ['', '-1', '1.5', '1e3', '010', 'abc', '99999999999999999999']) {
      expect(parseEpochValue(bad)).toBeNull();
    }
  });
});
