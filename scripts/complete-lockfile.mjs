#!/usr/bin/env node
// Usage: node scripts/complete-lockfile.mjs package-lock.json
// The npm registry this project is built against carries only some platforms' binaries
// of packages such as @biomejs/biome; npm then writes a lock without the others, and
// `npm ci` refuses that lock. Run this after `npm install` changes the lock.
// Add lock entries for optional per-platform packages this registry does not carry, so that
// `npm ci` sees a complete lock; their os/cpu/libc fields make npm skip them on other
// platforms without fetching anything.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const lock = JSON.parse(readFileSync(file, 'utf8'));
const OS = ['android', 'darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64'];
let added = 0;
for (const [path, meta] of Object.entries(lock.packages)) {
  for (const [name, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] !== undefined) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.find((p) => CPU.includes(p));
    if (os === undefined || cpu === undefined || !/^\d+\.\d+\.\d+$/.test(spec)) {
      console.error(`cannot infer platform of ${name}@${spec} (needed by ${path})`);
      process.exit(1);
    }
    const entry = { version: spec, cpu: [cpu], license: meta.license, optional: true, os: [os] };
    if (parts.includes('musl')) entry.libc = ['musl'];
    if (meta.dev) entry.dev = true;
    lock.packages[key] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} entries`);
