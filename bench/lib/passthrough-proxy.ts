// The physical limit of any relay on this machine: a pass-through proxy that forwards each request's
// path, query and Authorization header to the upstream and streams the answer back. No auth, no
// validation, no logging. Its upstream pool is set up as the relay's (src/upstream/pools.ts): undici,
// 32 connections, the same keep-alive and timeouts, TLS trusting the system roots plus the upstream
// CA through one secure context. Run as its own process: argv[2] is a JSON PassthroughSpec; prints
// "passthrough listening on http://127.0.0.1:<port>" once it listens.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Pool } from 'undici';

export interface PassthroughSpec {
  upstreamOrigin: string;
  caCertPath: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as PassthroughSpec;
const KEEP_ALIVE_MS = 30_000;
const pool = new Pool(spec.upstreamOrigin, {
  connections: 32,
  keepAliveTimeout: KEEP_ALIVE_MS,
  keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
  headersTimeout: 30_000,
  bodyTimeout: 30_000,
  connect: { timeout: 10_000, secureContext: createSecureContext({ ca: [...rootCertificates, readFileSync(spec.caCertPath, 'utf8')] }) },
});

const server = createServer((req, res) => {
  const authorization = req.headers.authorization;
  pool
    .request({ method: 'GET', path: req.url ?? '/', headers: authorization ? { authorization } : {} })
    .then(async (up) => {
      const type = up.headers['content-type'];
      res.writeHead(up.statusCode, typeof type === 'string' ? { 'content-type': type } : {});
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(`passthrough listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
});
process.once('SIGTERM', () => {
  server.close();
  void pool.close().then(() => process.exit(0));
});
