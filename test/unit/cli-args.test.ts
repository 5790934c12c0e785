/**
 * The command line, through the built CLI: `--help` for every command lists every flag of the
 * command's table; mistakes exit 2 before anything starts and name the flag (or the variable,
 * or the config file key); a daemon that is not there is exit 1 with a hint.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../meta/free-port.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir('epochgraph-cli-args-');
});
afterAll(async () => {
  await dir.remove();
});

describe('epochgraph --help', () => {
  it('lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.usage.replace(' [flags]', '')}`);
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: epochgraph <command>');
  });

  for (const c of COMMANDS) {
    it(`${c.name} --help shows its usage and every flag, and exits 0`, async () => {
      const r = await runCli([c.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`Usage: epochgraph ${c.usage}`);
      for (const f of c.flags) expect(r.stdout).toContain(`--${f.name}`);
      const viaHelp = await runCli(['help', c.name]);
      expect(viaHelp.stdout).toBe(r.stdout);
    });
  }

  it('serve --help names the environment variable of each flag', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.stdout).toContain('EPOCHGRAPH_DATA_DIR');
    expect(r.stdout).toContain('--config FILE');
  });
});

describe('bad command lines exit 2 and name the flag', () => {
  const cases: [string, string[], RegExp, Record<string, string>?][] = [
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['unknown serve flag', ['serve', '--bogus', '1'], /unknown flag --bogus/],
    ['non-numeric port', ['serve', '--port', 'abc'], /--port: /],
    ['port out of range', ['serve', '--port', '70000'], /--port: .*65535/],
    ['flag without a value', ['serve', '--data-dir'], /--data-dir needs a value/],
    ['bad etcd URL', ['serve', '--etcd', 'not a url'], /--etcd/],
    ['bad env variable', ['serve'], /EPOCHGRAPH_EPOCH_MS: /, { EPOCHGRAPH_EPOCH_MS: 'soon' }],
    ['a positional to serve', ['serve', 'extra'], /unexpected argument "extra"/],
    ['load without files', ['load'], /missing FILE/],
    [
      'load with a bad batch size',
      ['load', 'x.e', '--batch-edges', '0'],
      /--batch-edges: expected an integer/,
    ],
    ['load with a bad format', ['load', 'x.e', '--format', 'xml'], /--format: expected one of edgelist, csv/],
    [
      'load with a bad server',
      ['load', 'x.e', '--server', 'ftp://x'],
      /--server: "ftp:\/\/x" must be an http/,
    ],
    [
      'neighbors with a bad direction',
      ['neighbors', '1', '--direction', 'up'],
      /--direction: expected one of out, in, both/,
    ],
    [
      'neighbors with a bad epoch',
      ['neighbors', '1', '--epoch', 'yesterday'],
      /--epoch: expected an epoch number/,
    ],
    ['get with a bad as-of', ['get', '1', '--as-of', 'noon'], /--as-of: expected an ISO 8601 time/],
    [
      'get with epoch and as-of',
      ['get', '1', '--epoch', '3', '--as-of', '2025-01-01T00:00:00Z'],
      /--epoch or --as-of/,
    ],
    ['get with a huge id', ['get', '99999999999999999999'], /larger than 2\^53-1 \(pass --id-type string/],
    ['run with an unknown algorithm', ['run', 'dijkstra'], /unknown algorithm "dijkstra"/],
    ['run bfs without a source', ['run', 'bfs'], /bfs needs --source ID/],
    [
      'run pagerank with a source',
      ['run', 'pagerank', '--source', '1'],
      /--source does not apply to pagerank/,
    ],
    [
      'run pagerank with a bad damping',
      ['run', 'pagerank', '--damping', '2'],
      /--damping: expected a number from 0 to 1/,
    ],
    [
      'a bad EPOCHGRAPH_SERVER',
      ['epochs'],
      /EPOCHGRAPH_SERVER: "nope" is not a URL/,
      { EPOCHGRAPH_SERVER: 'nope' },
    ],
  ];
  for (const [what, args, message, env] of cases) {
    it(what, async () => {
      const r = await runCli(args, { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  }

  it('a bad key in the config file is named with the file', async () => {
    const file = path.join(dir.path, 'bad.json');
    writeFileSync(file, JSON.stringify({ epochMs: -5 }));
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`"epochMs" in ${file}`);
    writeFileSync(file, JSON.stringify({ portt: 1 }));
    const unknown = await runCli(['serve', '--config', file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option "portt"');
  });

  it('flags win over the environment: a good flag hides a bad variable, and the reverse names the flag', async () => {
    const r = await runCli(['serve', '--port', 'x'], { env: { EPOCHGRAPH_PORT: '7071' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port: /);
    expect(r.stderr).not.toContain('EPOCHGRAPH_PORT');
  });
});

describe('a daemon that is not there', () => {
  it('exits 1 with a hint, after retrying', async () => {
    const port = await findFreePort(); // nothing listens there
    const r = await runCli(['epochs', '--server', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach http://127.0.0.1:${port}/v1/epochs (GET): connect ECONNREFUSED`);
    expect(r.stderr).toContain('after 5 attempts');
    expect(r.stderr).toContain('is the daemon running?');
  });

  it('load of a missing file exits 1 naming it', async () => {
    const r = await runCli(['load', path.join(dir.path, 'missing.e'), '--server', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.e: cannot read \(ENOENT\)/);
  });
});
