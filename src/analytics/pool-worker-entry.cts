/**
 * The piscina entry of the analytics pool, in CommonJS on purpose. Piscina loads a task file
 * with require() first; on Node 20 that means require(esm) for our ES module worker, and that
 * path can abort the whole process under load ("v8::Module::IsGraphAsync must be used on an
 * instantiated module"). This file is plain CommonJS: it loads the ES module worker with
 * import(), and exports the handler as a promise (piscina wraps require() in __importStar, so
 * the promise becomes its `default`, which it awaits before it reports the thread ready). Once
 * the modules are evaluated it posts { epochgraphLoaded: threadId } (see AnalyticsPool.close).
 */
type Handler = (task: unknown) => unknown;

const { parentPort, threadId } = require('node:worker_threads') as typeof import('node:worker_threads');

const loaded: Promise<Handler> = import('./pool-worker.js').then((m: { default: Handler }) => {
  // Tell the pool this thread's modules are evaluated (piscina marks the first threads ready
  // before they load, so its own events cannot say it): only then may it be terminated.
  parentPort?.postMessage({ epochgraphLoaded: threadId });
  return m.default;
});

module.exports = loaded;
