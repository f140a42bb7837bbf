// A bearer token's own values (alg, aud, iss) never reach a response header. Once they did: a value
// with CR/LF or a character above U+00FF made Node refuse the 401's WWW-Authenticate, so the caller
// got Fastify's default body without the challenge and a stack was logged at warn. Over real HTTP
// on loopback, because that is where Node checks header values.
import { captureLogs } from '../helpers/capture-logs.js';
import t from 'tap';
import { request } from 'undici';
import { loggerOptions } from '../../src/http/logging.js';
import { startLocalEntra } from '../http/support/local-entra.js';
import { buildProbeApp } from '../http/support/probe-app.js';

const AUDIENCE = 'api://admin-relay';
const MARKER = 'evil.example';

const entra = await startLocalEntra();
t.teardown(() => entra.close());
const logs = captureLogs(loggerOptions('warn'));
const { logger } = logs;
const app = await buildProbeApp(
  { AUTH_MODE: 'entra', AZURE_AUTHORITY_HOST: entra.origin, ENTRA_AUDIENCE: AUDIENCE, ENTRA_ALLOWED_TENANTS: entra.tenantId },
  logger,
);
await app.listen({ host: '127.0.0.1', port: 0 });
t.teardown(() => app.close());
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token nobody signed: enough to reach the checks that read its header and claims. */
const unsigned = (header: Record<string, unknown>) => `${b64(header)}.${b64({ tid: entra.tenantId, aud: AUDIENCE })}.c2ln`;

const PRINTABLE = /^[\x20-\x7e]*$/;

const cases: Array<[string, () => Promise<string>]> = [
  ['alg with CR/LF', async () => unsigned({ alg: `HS256\r\nX-Injected: ${MARKER}`, typ: 'JWT' })],
  ['alg above U+00FF', async () => unsigned({ alg: `R\u0100S256 ${MARKER}`, typ: 'JWT' })],
  ['alg that is not a string', async () => unsigned({ alg: { evil: MARKER } })],
  ['a signed token whose aud holds CR/LF and U+2028', async () => entra.mintToken({ audience: `api://${MARKER}\r\nSet-Cookie: a=b\u2028`, roles: ['packages.read'] })],
  ['a signed token whose iss holds U+0100', async () => entra.mintToken({ issuer: `https://${MARKER}/\u0100/`, roles: ['packages.read'] })],
];

for (const [name, token] of cases) {
  t.test(`${name}: 401 in the relay's shape with a challenge naming nothing from the token`, async (t) => {
    logs.clear();
    const res = await request(`${base}/v1/probe/read`, { headers: { authorization: `Bearer ${await token()}` } });
    const text = await res.body.text();
    t.equal(res.statusCode, 401, text);
    const body = JSON.parse(text);
    t.equal(body.error.code, 'InvalidToken');
    t.equal(body.error.correlationId, res.headers['x-correlation-id']);
    t.match(body.error.message, PRINTABLE, 'the message is printable ASCII');
    const challenge = String(res.headers['www-authenticate'] ?? '');
    t.match(challenge, /^Bearer realm="admin-relay", .*error="invalid_token", error_description="[^"]+"/);
    t.match(challenge, PRINTABLE);
    t.notMatch(challenge, MARKER, 'nothing from the token is in the header');
    t.equal(res.headers['x-injected'], undefined);
    t.equal(res.headers['set-cookie'], undefined);
    t.same(logs.text(), '', 'nothing logged at warn or above');
  });
}

t.test("a valid token's own name is quoted as printable ASCII in a 403 too", async (t) => {
  const token = await entra.mintToken({ upn: `admin\u0100\r\n@${MARKER}`, scp: 'isolation.read' });
  const res = await request(`${base}/v1/probe/read`, { headers: { authorization: `Bearer ${token}` } });
  const body = JSON.parse(await res.body.text());
  t.equal(res.statusCode, 403);
  t.equal(body.error.code, 'PermissionDenied');
  t.match(body.error.message, PRINTABLE);
  t.match(String(res.headers['www-authenticate']), PRINTABLE);
  t.notMatch(String(res.headers['www-authenticate']), MARKER);
});
