/**
 * Free TCP ports on loopback. etcd cannot listen on port 0 itself (it must advertise its
 * URL), so the launcher asks the OS for a port, releases it, and hands it to etcd; if
 * someone takes it in between, the launcher tries again with new ports.
 */
import net from 'node:net';

/** etcd listens on loopback only: the managed etcd is private to this machine's daemon. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * A TCP port that was free a moment ago: bind port 0, read what the OS chose, close. etcd
 * cannot listen on port 0 itself (it must advertise its URL), hence the dance.
 */
export function findFreePort(host: string = LOOPBACK_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** True when nothing listens on host:port right now. */
export function isPortFree(port: number, host: string = LOOPBACK_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
