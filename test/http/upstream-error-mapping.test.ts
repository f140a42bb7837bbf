// What an upstream failure becomes for the relay's caller: retryable statuses stay retryable, and
// throttling is passed on as 429 with upstream's Retry-After even when the retries ran out.
import t from 'tap';
import { relayErrorFromUpstream } from '../../src/http/upstream-error-mapping.js';
import { UpstreamError } from '../../src/upstream/errors.js';

t.test('a deadline reached while still throttled is a 429 with upstream Retry-After', async (t) => {
  const err = new UpstreamError('bap', 'deadline', 'gave up after 3 attempts', { status: 429, retryAfterSeconds: 60 });
  const mapped = relayErrorFromUpstream(err);
  t.equal(mapped.statusCode, 429);
  t.equal(mapped.code, 'UpstreamThrottled');
  t.equal(mapped.extra.retryAfter, 60);
  t.match(mapped.message, /kept throttling.*retry after 60 seconds/);
});

t.test('a deadline reached on 5xx or no answer is a 504 with a Retry-After', async (t) => {
  for (const details of [{ status: 503 }, {}]) {
    const mapped = relayErrorFromUpstream(new UpstreamError('ppapi', 'deadline', 'gave up', details));
    t.equal(mapped.statusCode, 504);
    t.equal(mapped.code, 'UpstreamUnavailable');
    t.equal(mapped.extra.retryAfter, 30);
  }
});

t.test('plain statuses', async (t) => {
  const map = (status: number, code?: string) =>
    relayErrorFromUpstream(new UpstreamError('bap', 'http', `HTTP ${status}`, { status, code, retryAfterSeconds: 5 }));
  t.equal(map(429).statusCode, 429);
  t.equal(map(429).extra.retryAfter, 5);
  t.equal(map(503).statusCode, 503);
  t.equal(map(500).statusCode, 503);
  t.equal(map(504).statusCode, 504);
  t.equal(map(401).statusCode, 502, "upstream refusing the relay's token is not the caller's 401");
  t.equal(map(403, 'NotRegisteredAsManagementApp').code, 'NotRegisteredAsManagementApp');
  t.equal(map(404).statusCode, 404);
  t.equal(map(409).statusCode, 409);
  t.equal(map(400).statusCode, 400);
  t.equal(map(422).statusCode, 422);
});
