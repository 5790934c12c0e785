import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envName, flagName, loadServeConfig } from '../../src/config.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Removers of the temporary config directories, run after each test. */
const removers: (() => Promise<void>)[] = [];
async function configDir(): Promise<string> {
  const dir = await tempDir('cfg-');
  removers.push(dir.remove);
  return dir.path;
}

describe('serve configuration', () => {
  afterEach(async () => {
    await Promise.all(removers.splice(0).map((remove) => remove()));
  });

  it('has defaults and merges file < environment < flags', async () => {
    const dir = await configDir();
    const file = path.join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ port: 7000, epochMs: 20, dataDir: '/var/x', etcd: 'http://a:2379,http://b:2379' }),
    );
    const c = loadServeConfig({
      configFile: file,
      env: { EPOCHGRAPH_PORT: '7001', EPOCHGRAPH_RETAIN_MS: '5000' },
      flags: { port: '7002' },
    });
    expect(c.port).toBe(7002);
    expect(c.retainMs).toBe(5000);
    expect(c.epochMs).toBe(20);
    expect(c.dataDir).toBe('/var/x');
    expect(c.etcd).toEqual(['http://a:2379', 'http://b:2379']);
    expect(c.metaPrefix).toBe('gart_meta_');
    expect(Object.isFrozen(c)).toBe(true);
    expect(loadServeConfig({}).port).toBe(7070);
    expect(loadServeConfig({}).checkpointWalBytes).toBe(64 << 20);
    expect(loadServeConfig({ flags: { checkpointWalBytes: '16777216' } }).checkpointWalBytes).toBe(16 << 20);
  });

  it('names the flag, variable or file key of a bad value', async () => {
    expect(() => loadServeConfig({ flags: { port: '70000' } })).toThrow(/^--port: /);
    expect(() => loadServeConfig({ flags: { epochMs: 'fast' } })).toThrow(/^--epoch-ms: .*number/);
    expect(() => loadServeConfig({ env: { EPOCHGRAPH_PARTITIONS: '0' } })).toThrow(
      /^EPOCHGRAPH_PARTITIONS: /,
    );
    expect(() => loadServeConfig({ flags: { etcd: 'not a url' } })).toThrow(/^--etcd: /);
    expect(() => loadServeConfig({ flags: { nope: '1' } })).toThrow(/unknown flag --nope/);
    expect(() => loadServeConfig({ flags: { checkpointWalBytes: '1000' } })).toThrow(
      /^--checkpoint-wal-bytes: .*1048576/,
    );
    expect(() => loadServeConfig({ flags: { etcdUsername: 'u' } })).toThrow(/username and password/);
    expect(() => loadServeConfig({ flags: { readWorkers: '-1' } })).toThrow(/^--read-workers: /);
    expect(loadServeConfig({ flags: { readWorkers: '0' } }).readWorkers).toBe(0);
    expect(() => loadServeConfig({ flags: { dataDir: 'd', backupDir: 'd' } })).toThrow(/^--backup-dir: /);
    const dir = await configDir();
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ epochMs: -1 }));
    expect(() => loadServeConfig({ configFile: file })).toThrow(/"epochMs" in .*bad.json/);
    writeFileSync(file, '{ nope');
    expect(() => loadServeConfig({ configFile: file })).toThrow(/--config .*bad.json/);
  });

  it('derives flag and variable names', () => {
    expect(flagName('dataDir')).toBe('--data-dir');
    expect(envName('metaPrefix')).toBe('EPOCHGRAPH_META_PREFIX');
  });
});
