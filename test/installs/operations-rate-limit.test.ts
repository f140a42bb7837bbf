// Wait-URL polls and the per-caller rate limit: polls of a signed wait URL are charged to the
// operation, at 10 × RATE_LIMIT_PER_MINUTE, not to the caller. 50 flows polling one install at the
// relay's own Retry-After for a minute never see 429 at the default limit (sent back to back here,
// so all of them land in one rate-limit window); a runaway poller on one URL still does.
import t from 'tap';
import { Agent, request } from 'undici';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const install = (name: string) => `/v1/environments/${ENV}/packages/${name}/install`;

t.test('50 flows polling one operation at the engine’s pace never get 429 at the default limit', async (t) => {
  const stack = await startStack({ speed: 50 });
  t.teardown(() => stack.close());
  t.equal(stack.config.rateLimitPerMinute, 600, 'the default RATE_LIMIT_PER_MINUTE');
  stack.sim.control.setSpeed(1e-9); // the install runs for the whole test
  const started = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  t.equal(started.status, 202);
  const location = started.headers.location!;
  const agent = new Agent({ connections: 50 });
  t.teardown(() => agent.close());

  // Each flow polls until a minute of Retry-After has passed (in virtual time); half of them send
  // the connection's credentials along with the signed URL, as an engine may.
  const statuses = new Map<number, number>();
  const flow = async (i: number) => {
    let virtualMs = 0;
    let polls = 0;
    while (virtualMs < 60_000) {
      const res = await request(location, { dispatcher: agent, headers: i % 2 ? { 'x-api-key': stack.apiKey } : {} });
      await res.body.dump();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      polls++;
      virtualMs += Number(res.headers['retry-after'] ?? 1) * 1000;
    }
    return polls;
  };
  const polls = (await Promise.all(Array.from({ length: 50 }, (_, i) => flow(i)))).reduce((a, b) => a + b, 0);
  t.ok(polls > stack.config.rateLimitPerMinute, `${polls} polls: more than one caller's budget of ${stack.config.rateLimitPerMinute}`);
  t.same([...statuses.keys()], [202], `every poll answered 202 (${JSON.stringify([...statuses])})`);
  t.ok(stack.sim.control.calls({ route: 'ppapi.operation' }).length < 20, 'upstream saw a handful of status calls');
  // The credentialed half was not charged to the API key: its own budget is intact.
  const own = await stack.request('GET', `/v1/environments/${ENV}/packages`);
  t.equal(own.status, 200);
  t.equal(own.headers['x-ratelimit-remaining'], String(stack.config.rateLimitPerMinute - 2), 'only the POST and this call count for the key');
});

t.test('the wait-URL budget is per operation and 10 × the limit; past it, 429 that says so', async (t) => {
  const stack = await startStack({ speed: 50, env: { RATE_LIMIT_PER_MINUTE: '3' } });
  t.teardown(() => stack.close());
  stack.sim.control.setSpeed(1e-9);
  const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
  t.equal(first.status, 202);
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof stack.request>> | undefined;
  for (let i = 0; i < 31; i++) {
    last = await stack.request('GET', first.headers.location!.replace(stack.baseUrl, ''), { headers: { 'x-api-key': '' } });
    statuses.push(last.status);
  }
  t.same(statuses.slice(0, 30), Array(30).fill(202), '30 polls (10 × 3) are fine');
  t.equal(statuses[30], 429, 'the 31st is refused');
  t.equal(last!.body.error.code, 'TooManyRequests');
  t.match(last!.body.error.message, /wait URL was polled more than 30 times/);
  t.match(last!.headers['retry-after'], /^\d+$/);
  // The caller's own budget (3) is untouched by those polls; an unsigned status read is an ordinary call.
  const status = await stack.request('GET', `/v1/environments/${ENV}/operations/${first.body.operationId}`);
  t.equal(status.status, 200, 'the API key still has its budget');
  const unsigned = first.headers.location!.replace(stack.baseUrl, '').replace(/&sig=[^&]*/, '');
  t.equal((await stack.request('GET', unsigned)).status, 202, 'the wait route without a signature, with the key: the key’s third call');
  const over = await stack.request('GET', unsigned);
  t.equal(over.status, 429, 'a fourth call of the key is refused: unsigned polls are charged to the caller');
  t.match(over.body.error.message, /This caller sent more than 3 requests/);
});
