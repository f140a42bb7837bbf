// /readyz needs no credentials, so it tells anyone only "ready" or "not ready" and a short reason
// code. The client id, the tenant id and Entra's error text (which it once returned) go to the log.
import { captureLogs } from '../helpers/capture-logs.js';
import t from 'tap';
import { loggerOptions } from '../../src/http/logging.js';
import { startStack } from '../helpers/stack.js';

t.test('not ready: a reason code for everyone, the details in the log', async (t) => {
  const cap = captureLogs(loggerOptions('info'));
  // A wrong client secret: Entra refuses the relay's token requests with AADSTS text naming the app.
  const stack = await startStack({ env: { AZURE_CLIENT_SECRET: 'not-the-secret', UPSTREAM_DEADLINE_SECONDS: '2' }, logger: cap.logger });
  t.teardown(() => stack.close());
  const secrets = [stack.config.azureClientId!, stack.config.azureTenantId!];

  for (const headers of [{ 'x-api-key': '' }, {}] as Array<Record<string, string>>) {
    const res = await stack.request('GET', '/readyz', { headers });
    t.equal(res.status, 503);
    t.same(res.body, { status: 'not ready', reason: 'upstream_token_unavailable' }, 'the same short answer with or without a key');
    for (const s of secrets) t.notMatch(JSON.stringify(res.body), s);
  }
  const logged = cap.text();
  t.match(logged, /"reason":"upstream_token_unavailable"/);
  t.match(logged, /AADSTS|client secret|invalid_client/i, "Entra's refusal is in the log");
});

t.test('ready: the status and nothing about the tenant or the credential', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const res = await stack.request('GET', '/readyz', { headers: { 'x-api-key': '' } });
  t.equal(res.status, 200);
  t.same(res.body, { status: 'ready' });
});
