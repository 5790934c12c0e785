/**
 * Docker does not run here, so docker-compose.yml and the Dockerfile are checked against the
 * CLI instead: the epochgraph service runs a real command whose every flag is in the serve
 * flag table and in `serve --help`, whose values pass the serve configuration's validation,
 * whose `--etcd` URL names the etcd service on the port that service listens on, and whose
 * port and data dir match what the service publishes and mounts. The compose file is read
 * with a small parser for the YAML it uses (block maps and lists, JSON-style flow lists,
 * quoted scalars, comments); anything else in it fails the test rather than being guessed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVE } from '../../src/cli/commands.js';
import { serveConfigFromArgs } from '../../src/cli/serve.js';
import { envName, serveConfigSchema } from '../../src/config.js';
import { REPO_ROOT, runCli } from '../helpers/cli-process.js';

type Yaml = string | Yaml[] | { [k: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

/** Strip a comment that starts outside quotes. */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

function scalar(raw: string, no: number): Yaml {
  const s = raw.trim();
  if (s.startsWith('[') || s.startsWith('{')) {
    try {
      return JSON.parse(s) as Yaml;
    } catch {
      throw new Error(`docker-compose.yml:${no}: flow collection is not JSON-compatible: ${s}`);
    }
  }
  if (s.startsWith('"')) return JSON.parse(s) as string;
  if (s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (/^[&*!|>%@`]/.test(s)) throw new Error(`docker-compose.yml:${no}: unsupported YAML: ${s}`);
  return s;
}

/** Parse the YAML subset compose files are written in here. */
function parseYaml(text: string): Yaml {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    const body = stripComment(raw).replace(/\s+$/, '');
    if (body.trim().length === 0) return;
    if (/^\t/.test(body)) throw new Error(`docker-compose.yml:${i + 1}: tab indentation`);
    lines.push({ indent: body.length - body.trimStart().length, text: body.trim(), no: i + 1 });
  });
  let pos = 0;
  function block(indent: number): Yaml {
    const first = lines[pos];
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: Yaml[] = [];
      while (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('-')) {
        const item = lines[pos].text.slice(1).trim();
        if (/^[\w.-]+:(\s|$)/.test(item))
          throw new Error(`docker-compose.yml:${lines[pos].no}: maps in lists are not used`);
        list.push(scalar(item, lines[pos].no));
        pos++;
      }
      return list;
    }
    const map: { [k: string]: Yaml } = {};
    while (pos < lines.length && lines[pos].indent === indent) {
      const { text: t, no } = lines[pos];
      const m = /^("[^"]+"|[\w.-]+):(?:\s+(.*))?$/.exec(t);
      if (m === null) throw new Error(`docker-compose.yml:${no}: expected "key: value", got ${t}`);
      const key = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
      if (Object.hasOwn(map, key)) throw new Error(`docker-compose.yml:${no}: duplicate key ${key}`);
      pos++;
      if (m[2] !== undefined && m[2].length > 0) map[key] = scalar(m[2], no);
      else if (pos < lines.length && (lines[pos].indent > indent || lines[pos].text.startsWith('- '))) {
        map[key] = block(lines[pos].indent);
      } else map[key] = '';
    }
    if (pos < lines.length && lines[pos].indent > indent) {
      throw new Error(`docker-compose.yml:${lines[pos].no}: unexpected indentation`);
    }
    return map;
  }
  const doc = block(0);
  if (pos !== lines.length) throw new Error(`docker-compose.yml:${lines[pos].no}: could not parse`);
  return doc;
}

function asMap(v: Yaml | undefined, what: string): { [k: string]: Yaml } {
  if (v === undefined || typeof v === 'string' || Array.isArray(v)) throw new Error(`${what} must be a map`);
  return v;
}
function asList(v: Yaml | undefined, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new Error(`${what} must be a list of strings`);
  return v as string[];
}

/** The value after `--name` (or in `--name=value`) in an argv. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

const compose = parseYaml(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'));
const services = asMap(asMap(compose, 'the file').services, 'services');
const eg = asMap(services.epochgraph, 'services.epochgraph');
const etcd = asMap(services.etcd, 'services.etcd');
const command = asList(eg.command, 'services.epochgraph.command');
const environment = asMap(eg.environment, 'services.epochgraph.environment') as Record<string, string>;

describe('the YAML subset parser', () => {
  it('reads maps, lists, flow lists, quotes and comments, and refuses what it does not know', () => {
    expect(parseYaml('a: 1 # c\nb:\n  - "x # y"\n  - \'z\'\nc: ["p", "q"]\nd:\n  e: {}\n')).toEqual({
      a: '1',
      b: ['x # y', 'z'],
      c: ['p', 'q'],
      d: { e: {} },
    });
    expect(() => parseYaml('a: &anchor 1\n')).toThrow(/unsupported YAML/);
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/duplicate key/);
  });
});

describe('docker-compose.yml against the CLI', () => {
  it('has an etcd service from an etcd image and the epochgraph service built from the Dockerfile', () => {
    expect(String(etcd.image)).toMatch(/etcd/);
    expect(eg.build).toBe('.');
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20[-.\w]* AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/npm run build/);
    // The entrypoint is the package's bin.
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin.epochgraph).toBe('./dist/src/cli.js');
    expect(dockerfile).toContain('ln -s /app/dist/src/cli.js /usr/local/bin/epochgraph');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["epochgraph"\]$/m);
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(cmd).toBeDefined();
    expect(JSON.parse(cmd ?? '[]')[0]).toBe('serve');
  });

  it('runs `serve` with flags that exist in the flag table and in `serve --help`', async () => {
    expect(command[0]).toBe('serve');
    const names = command.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]);
    expect(names.length).toBeGreaterThan(0);
    const table = new Set(SERVE.flags.map((f) => f.name));
    for (const n of names) expect(table.has(n), `--${n} is not a serve flag`).toBe(true);
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    for (const n of names) expect(help.stdout).toContain(`--${n} `);
  });

  it('passes values (flags and environment) that the serve configuration accepts', () => {
    for (const k of Object.keys(environment)) {
      expect(
        Object.keys(serveConfigSchema.shape).map(envName),
        `${k} is not an EPOCHGRAPH_* option`,
      ).toContain(k);
    }
    const config = serveConfigFromArgs(command.slice(1), environment);
    expect(config).not.toBe('help');
    if (config === 'help') return;
    expect(config.host).toBe('0.0.0.0');
    expect(config.partitions).toBe(Number(environment.EPOCHGRAPH_PARTITIONS));
  });

  it('points --etcd at the etcd service, on the port etcd listens and advertises', () => {
    const url = new URL(flagValue(command, 'etcd') ?? '');
    expect(url.hostname).toBe('etcd');
    const etcdArgs = asList(etcd.command, 'services.etcd.command');
    const listen = new URL(flagValue(etcdArgs, 'listen-client-urls') ?? '');
    const advertise = new URL(flagValue(etcdArgs, 'advertise-client-urls') ?? '');
    expect(listen.hostname).toBe('0.0.0.0');
    expect(listen.port).toBe(url.port);
    expect(advertise.hostname).toBe('etcd');
    expect(advertise.port).toBe(url.port);
    expect(asMap(eg.depends_on, 'depends_on').etcd).toEqual({ condition: 'service_healthy' });
  });

  it('publishes the HTTP port it listens on, and mounts a volume at its data dir', () => {
    const port = flagValue(command, 'port') ?? '7070';
    expect(asList(eg.ports, 'ports')).toContain(`${port}:${port}`);
    const dataDir = flagValue(command, 'data-dir');
    expect(dataDir).toBeDefined();
    const mounts = asList(eg.volumes, 'volumes').map((v) => v.split(':'));
    const named = mounts.find(([, target]) => target === dataDir);
    expect(named, `no volume mounted at ${dataDir}`).toBeDefined();
    expect(
      Object.keys(asMap(compose as { [k: string]: Yaml }, 'file').volumes as { [k: string]: Yaml }),
    ).toContain(named?.[0]);
  });
});
