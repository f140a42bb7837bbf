// Secrets never reach the logs: capture everything pino writes at trace level while calls carry
// API keys, bearer tokens and signed wait URLs (accepted and refused), then search for each secret.
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { sha256Hex } from '../../src/http/api-keys.js';
import { loggerOptions } from '../../src/http/logging.js';
import { startLocalEntra } from './support/local-entra.js';
import { buildProbeApp } from './support/probe-app.js';

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino(loggerOptions('trace'), stream), text: () => lines.join('') };
}

t.test('API keys, bearer tokens and wait-URL signatures never appear in the log', async (t) => {
  const entra = await startLocalEntra();
  t.teardown(() => entra.close());
  const KEY = 'very-secret-api-key-0123456789';
  const DEMO = 'very-secret-demo-key-0123456789';
  const WRONG = 'wrong-secret-key-0123456789';
  const SIG = '4102444800.SECRETSIGNATUREabcdefghijklmnopqrstuvwxyz0123456';
  const cap = captureLogger();
  const keyApp = await buildProbeApp({ AUTH_MODE: 'apikey', API_KEYS: `flows:${sha256Hex(KEY)}:packages.read`, DEMO_API_KEY: DEMO }, cap.logger);
  const entraApp = await buildProbeApp(
    { AUTH_MODE: 'entra', UPSTREAM_AUTH: 'obo', AZURE_AUTHORITY_HOST: entra.origin, ENTRA_AUDIENCE: 'api://admin-relay', ENTRA_ALLOWED_TENANTS: entra.tenantId },
    cap.logger,
  );
  t.teardown(async () => {
    await keyApp.close();
    await entraApp.close();
  });
  const good = await entra.mintToken({ upn: 'admin@contoso.com', scp: 'packages.read' });
  const lacking = await entra.mintToken({ upn: 'admin@contoso.com', scp: 'isolation.read' });
  const expired = await entra.mintToken({ scp: 'packages.read', expiresInSeconds: -300 });

  const statuses = [
    (await keyApp.inject({ url: '/v1/probe/read', headers: { 'x-api-key': KEY } })).statusCode,
    (await keyApp.inject({ method: 'POST', url: '/v1/probe/write', headers: { 'x-api-key': KEY }, payload: {} })).statusCode,
    (await keyApp.inject({ url: '/v1/probe/read', headers: { 'x-api-key': WRONG } })).statusCode,
    (await keyApp.inject({ url: '/v1/probe/read', headers: { 'x-api-key': DEMO, cookie: `session=${KEY}` } })).statusCode,
    (await keyApp.inject({ url: `/v1/probe/wait?sig=${SIG}` })).statusCode,
    (await entraApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${good}` } })).statusCode,
    (await entraApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${lacking}` } })).statusCode,
    (await entraApp.inject({ url: '/v1/probe/read', headers: { authorization: `Bearer ${expired}` } })).statusCode,
    (await entraApp.inject({ url: `/v1/probe/wait?sig=${SIG}`, headers: { authorization: `Bearer ${good}` } })).statusCode,
  ];
  t.same(statuses, [200, 403, 401, 200, 200, 200, 403, 401, 200]);
  const log = cap.text();
  t.ok(log.length > 1000, 'the requests were logged');
  t.match(log, /admin@contoso\.com/, 'the caller identity is logged');
  t.match(log, /"name":"flows"/, 'the key name is logged');
  for (const secret of [KEY, DEMO, WRONG, SIG, SIG.split('.')[1]!, good, lacking, expired, ...good.split('.').slice(1)]) {
    t.notOk(log.includes(secret), `secret ${secret.slice(0, 12)}… is not in the log`);
  }
  // Redaction, not luck: a log call that does carry them is censored too.
  cap.logger.info({ headers: { authorization: `Bearer ${good}`, 'x-api-key': KEY }, ctx: { userAssertion: good } }, 'explicit');
  t.notOk(cap.text().includes(good));
  t.notOk(cap.text().includes(KEY));
});
