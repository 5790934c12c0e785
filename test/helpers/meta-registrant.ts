/**
 * A process that registers a machine through the metadata store and then idles, for the
 * lease tests: they SIGKILL it and watch its `writer_{p}_is_up` keys expire with the lease.
 * Built to dist/test/helpers/meta-registrant.js; run as
 *   node meta-registrant.js <endpoints,comma,separated> <prefix> <leaseTtlSec> <machine> <p,p,...>
 * It prints `registered <leaseId>` once the keys are in etcd. On SIGTERM it closes the store
 * (revoking the lease) and exits 0.
 */
import { createEtcdMetadataStore, silentLogger } from '../../meta/index.js';

function fail(message: string): never {
  process.stderr.write(`meta-registrant: ${message}\n`);
  process.exit(2);
}

function parseIntArg(name: string, text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < 0) fail(`${name} must be a non-negative integer`);
  return n;
}

const [endpointsArg, prefix, ttlArg, machineArg, partitionsArg] = process.argv.slice(2);
if (endpointsArg === undefined || prefix === undefined || partitionsArg === undefined) {
  fail('usage: meta-registrant <endpoints> <prefix> <leaseTtlSec> <machine> <partitions>');
}
const leaseTtlSec = parseIntArg('leaseTtlSec', ttlArg);
const machine = parseIntArg('machine', machineArg);
const partitions = partitionsArg.split(',').map((p) => parseIntArg('partition', p));

const store = createEtcdMetadataStore({
  endpoints: endpointsArg.split(','),
  prefix,
  leaseTtlSec,
  logger: silentLogger,
});
try {
  await store.register({
    machine,
    endpoint: 'http://127.0.0.1:7070',
    partitions,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  });
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
process.stdout.write(`registered ${store.stats().leaseId}\n`);

// Keep the event loop alive until a signal arrives.
const idle = setInterval(() => undefined, 60_000);
process.once('SIGTERM', () => {
  clearInterval(idle);
  void store.close().then(() => process.exit(0));
});
