// Behind a trusted proxy, Location is built from X-Forwarded-Host and X-Forwarded-Proto only when
// they are a well-formed host[:port] and http/https, and (with PUBLIC_HOSTS) an allowed host;
// otherwise from PUBLIC_BASE_URL. These values were once copied into Location as they came.
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { normalizeHostPort } from '../../src/host-port.js';
import { forwardedOrigin, publicOrigin } from '../../src/http/forwarded-origin.js';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';

const BASE = 'https://relay.contoso.com/admin';
const ATTACKS: Array<Record<string, string>> = [
  { 'x-forwarded-host': 'evil.example/x?' },
  { 'x-forwarded-host': 'a@evil.example' },
  { 'x-forwarded-host': 'evil.example:1/#' },
  { 'x-forwarded-host': 'evil.example#' },
  { 'x-forwarded-host': 'evil.example\\x' },
  { 'x-forwarded-host': 'evil.example:99999' },
  { 'x-forwarded-host': 'evil.example:0' },
  { 'x-forwarded-host': 'evil .example' },
  { 'x-forwarded-host': 'évil.example' },
  { 'x-forwarded-host': '[not-ipv6]' },
  { 'x-forwarded-host': 'relay.fabrikam.com', 'x-forwarded-proto': 'javascript' },
  { 'x-forwarded-host': 'relay.fabrikam.com', 'x-forwarded-proto': 'https:/x' },
];

t.test('host[:port] syntax', async (t) => {
  for (const good of ['relay.fabrikam.com', 'Relay.Fabrikam.COM:8443', '10.0.0.4', '[::1]:3000', 'localhost'])
    t.ok(normalizeHostPort(good), good);
  t.equal(normalizeHostPort('Relay.Fabrikam.COM:8443'), 'relay.fabrikam.com:8443');
  for (const attack of ATTACKS) if (!attack['x-forwarded-proto']) t.equal(normalizeHostPort(attack['x-forwarded-host']!), undefined, attack['x-forwarded-host']!);
});

t.test('publicOrigin: bad forwarded values fall back to PUBLIC_BASE_URL', async (t) => {
  const config = { publicBaseUrl: BASE, trustProxy: true, publicHosts: [] as string[] };
  for (const headers of ATTACKS) t.equal(publicOrigin({ headers }, config), BASE, JSON.stringify(headers));
  t.equal(publicOrigin({ headers: { 'x-forwarded-host': 'relay.fabrikam.com:8443', 'x-forwarded-proto': 'HTTP' } }, config), 'http://relay.fabrikam.com:8443/admin');
  t.equal(publicOrigin({ headers: { 'x-forwarded-host': 'evil.example, relay.fabrikam.com' } }, config), 'https://relay.fabrikam.com/admin', 'the entry the nearest proxy wrote');
  t.equal(publicOrigin({ headers: { 'x-forwarded-host': 'relay.fabrikam.com' } }, { ...config, trustProxy: false }), BASE, 'an untrusted proxy is ignored');
});

t.test('PUBLIC_HOSTS: only listed hosts are used', async (t) => {
  const config = loadConfig({ PUBLIC_BASE_URL: BASE, TRUST_PROXY: 'true', PUBLIC_HOSTS: 'relay.fabrikam.com, Relay.Contoso.com:8443' });
  t.same(config.publicHosts, ['relay.fabrikam.com', 'relay.contoso.com:8443']);
  t.equal(forwardedOrigin({ 'x-forwarded-host': 'RELAY.fabrikam.com' }, config.publicHosts)?.host, 'relay.fabrikam.com');
  t.equal(publicOrigin({ headers: { 'x-forwarded-host': 'relay.contoso.com:8443' } }, config), 'https://relay.contoso.com:8443/admin');
  t.equal(publicOrigin({ headers: { 'x-forwarded-host': 'other.example' } }, config), BASE, 'a well-formed host that is not listed');
  t.equal(publicOrigin({ headers: { 'x-forwarded-host': 'relay.contoso.com' } }, config), BASE, 'the port is part of the entry');
  const err = t.throws(() => loadConfig({ PUBLIC_HOSTS: 'https://relay.contoso.com/' })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.variable, 'PUBLIC_HOSTS');
  t.match(err.message, /host\[:port\]/);
});

t.test('over HTTP: the install Location never carries a bad forwarded value', async (t) => {
  const stack = await startStack({ speed: 0.01, env: { TRUST_PROXY: 'true', RATE_LIMIT_PER_MINUTE: '1000' } });
  t.teardown(() => stack.close());
  stack.config.publicBaseUrl = BASE;
  const install = `/v1/environments/${DEMO_ENVIRONMENTS.sales}/packages/msdyn_ContosoSurveysAnchor/install`;
  let reached = 0;
  for (const headers of ATTACKS) {
    // Node itself refuses some bytes in request headers; those never reach the relay.
    const res = await stack.request('POST', install, { headers }).catch(() => undefined);
    if (!res) continue;
    reached++;
    t.equal(res.status, 202, JSON.stringify(headers));
    t.match(res.headers.location, /^https:\/\/relay\.contoso\.com\/admin\/v1\/environments\//, JSON.stringify(headers));
  }
  t.ok(reached >= ATTACKS.length - 2, `${reached} of ${ATTACKS.length} attacks reached the relay`);
  const good = await stack.request('POST', install, { headers: { 'x-forwarded-host': 'relay.fabrikam.com', 'x-forwarded-proto': 'https' } });
  t.match(good.headers.location, /^https:\/\/relay\.fabrikam\.com\/admin\/v1\//, 'a well-formed forwarded host is still used');
});
