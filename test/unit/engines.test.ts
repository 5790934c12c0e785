/**
 * package.json promises Node 20 (`engines`). Every package in the lock that `npm ci`
 * installs must accept the oldest Node that range admits, or users on Node 20 get
 * EBADENGINE warnings and code that may use what their Node lacks. This caught fastify's
 * light-my-request pulling cookie 2 and @fastify/swagger-ui pulling @fastify/static 10.1.11
 * (content-disposition 3), both `node >= 22`; package.json's `overrides` pin ones that
 * accept Node 20.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli-process.js';

interface Manifest {
  engines?: { node?: string };
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('engines', () => {
  const pkg = readJson(path.join(REPO_ROOT, 'package.json')) as Manifest;
  const range = pkg.engines?.node ?? '';
  const oldest = semver.minVersion(range);

  it('package.json names a Node 20 range', () => {
    expect(oldest?.major).toBe(20);
    expect(semver.satisfies(process.version, range)).toBe(true);
  });

  it('every installed package accepts the oldest Node of that range', () => {
    const lock = readJson(path.join(REPO_ROOT, 'package-lock.json')) as {
      packages: Record<string, unknown>;
    };
    const refused: string[] = [];
    let checked = 0;
    for (const key of Object.keys(lock.packages)) {
      const manifest = path.join(REPO_ROOT, key, 'package.json');
      // Optional platform packages for other systems are in the lock but not installed.
      if (key === '' || !existsSync(manifest)) continue;
      checked++;
      const wants = (readJson(manifest) as Manifest).engines?.node;
      if (wants !== undefined && oldest !== null && !semver.satisfies(oldest, wants)) {
        refused.push(`${key.replace(/^.*node_modules\//, '')} wants node ${wants}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(refused).toEqual([]);
  });
});
