// An extra CA (UPSTREAM_CA_FILE) is trusted on top of the system roots, and verification stays on:
// a certificate from neither is refused. (That the system roots stay is Node's behaviour for a
// context built without `ca`: adding a certificate copies its root store; no offline test can
// present a certificate a public root issued.)
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import t from 'tap';
import { relayAppCertificate, serverCertificate } from '../../src/simulator/tls.js';
import { secureContextWithExtraCa } from '../../src/trust-store.js';

async function handshake(serverPair: { key: string; cert: string }, trustedPem: string): Promise<'trusted' | string> {
  const server = createServer({ key: serverPair.key, cert: serverPair.cert }, (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      servername: 'localhost',
      secureContext: secureContextWithExtraCa(trustedPem),
    });
    return await new Promise((resolve) => {
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('trusted');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  } finally {
    server.close();
  }
}

t.test('a server whose certificate the extra CA issued is trusted', async (t) => {
  const simulator = await serverCertificate();
  t.equal(await handshake(simulator, simulator.cert), 'trusted');
});

t.test('a certificate from neither the system roots nor the extra CA is refused', async (t) => {
  const simulator = await serverCertificate();
  const other = await relayAppCertificate();
  t.not(await handshake(simulator, other.cert), 'trusted');
});

