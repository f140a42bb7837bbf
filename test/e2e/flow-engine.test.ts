// The emulator itself must behave like the engine, or the e2e suite proves nothing: retries on
// 408/429/5xx with the exponential policy and Retry-After, no retry on other 4xx, 202 + Location
// followed without credentials, nextLink followed with them, requests built strictly from the
// definition.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { FlowEngine, POWER_AUTOMATE_DEFAULT_RETRY } from './flow-engine.js';

const definition = {
  swagger: '2.0',
  host: 'example.invalid',
  basePath: '/',
  schemes: ['https'],
  securityDefinitions: { api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
  security: [{ api_key: [] }],
  paths: {
    '/v1/things': {
      get: { operationId: 'ListThings', 'x-ms-pageable': { nextLinkName: 'nextLink' }, responses: { '200': { description: 'ok' } } },
    },
    '/v1/things/{id}/run': {
      post: {
        operationId: 'RunThing',
        parameters: [
          { name: 'id', in: 'path', required: true, type: 'string', 'x-ms-url-encoding': 'single' },
          { name: 'mode', in: 'query', required: false, type: 'string', enum: ['fast', 'slow'] },
          {
            name: 'body',
            in: 'body',
            required: true,
            schema: { type: 'object', properties: { note: { type: 'string' } }, required: ['note'] },
          },
        ],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
};

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

async function serve(t: { teardown(fn: () => unknown): void }, handler: Handler) {
  let n = 0;
  const seen: Array<{ method: string; url: string; key?: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        key: req.headers['x-api-key'] as string | undefined,
        body,
      });
      handler(req, res, n++);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const engine = new FlowEngine({ definition, origin, connection: { apiKey: 'secret-key' }, maxSleepMs: 5 });
  return { engine, seen, origin };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

t.test('requests come from the definition: path encoding, query, body, key header', async (t) => {
  const { engine, seen } = await serve(t, (_req, res) => json(res, 200, { ok: true }));
  const result = await engine.run('RunThing', { id: 'a b/c', mode: 'fast', 'body/note': 'hi' });
  t.equal(result.status, 'Succeeded');
  t.same(seen[0], {
    method: 'POST',
    url: '/v1/things/a%20b%2Fc/run?mode=fast',
    key: 'secret-key',
    body: '{"note":"hi"}',
  });
  t.throws(() => engine.buildRequest('RunThing', { id: 'x', nope: 1, 'body/note': 'n' }), {
    name: 'DefinitionMismatch',
  });
  t.throws(
    () => engine.buildRequest('RunThing', { id: 'x', mode: 'medium', 'body/note': 'n' }),
    /not one of/,
  );
  t.throws(() => engine.buildRequest('RunThing', { id: 'x', 'body/other': 1 }), /no property other/);
  t.throws(() => engine.buildRequest('RunThing', { 'body/note': 'n' }), /needs id/);
  t.throws(() => engine.buildRequest('NoSuch', {}), /no operation NoSuch/);
});

t.test(
  '408, 429 and 5xx are retried with backoff or Retry-After; then the answer ends the action',
  async (t) => {
    const { engine, seen } = await serve(t, (_req, res, n) => {
      if (n === 0) return json(res, 503, { error: { message: 'busy' } });
      if (n === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '30' });
      if (n === 2) return json(res, 408, {});
      json(res, 200, { done: true });
    });
    const result = await engine.run('RunThing', { id: 'x', 'body/note': 'n' });
    t.equal(result.status, 'Succeeded');
    t.equal(seen.length, 4);
    t.equal(result.requestedDelaysMs[1], 30_000, 'Retry-After honoured');
    const first = result.requestedDelaysMs[0]!;
    t.ok(
      first >= POWER_AUTOMATE_DEFAULT_RETRY.minimumIntervalMs &&
        first <= 1.2 * POWER_AUTOMATE_DEFAULT_RETRY.intervalMs,
    );
    t.ok(result.requestedDelaysMs[2]! > first, 'the interval grows');
  },
);

t.test('retries stop after the policy count and the last answer fails the action', async (t) => {
  const { engine, seen } = await serve(t, (_req, res) => json(res, 500, { error: { message: 'down' } }));
  const result = await engine.run('RunThing', { id: 'x', 'body/note': 'n' });
  t.equal(result.status, 'Failed');
  t.equal(seen.length, POWER_AUTOMATE_DEFAULT_RETRY.count + 1);
});

t.test('other 4xx fail the action at once', async (t) => {
  const { engine, seen } = await serve(t, (_req, res) =>
    json(res, 422, { error: { message: 'bad package' } }),
  );
  const result = await engine.run('RunThing', { id: 'x', 'body/note': 'n' });
  t.equal(result.status, 'Failed');
  t.equal(result.statusCode, 422);
  t.equal(result.body.error.message, 'bad package');
  t.equal(seen.length, 1);
});

t.test('202 + Location is polled after Retry-After, without credentials, until a non-202', async (t) => {
  const { engine, seen, origin } = await serve(t, (req, res, n) => {
    if (n === 0)
      return json(
        res,
        202,
        { status: 'Running' },
        { location: `${origin}/wait/1?sig=s`, 'retry-after': '12' },
      );
    if (n < 3)
      return json(
        res,
        202,
        { status: 'Running' },
        { location: `${origin}/wait/1?sig=s`, 'retry-after': '7' },
      );
    json(res, 200, { status: 'Succeeded', url: req.url });
  });
  const result = await engine.run('RunThing', { id: 'x', 'body/note': 'n' });
  t.equal(result.status, 'Succeeded');
  t.equal(result.polls, 3);
  t.same(result.requestedDelaysMs, [12_000, 7_000, 7_000]);
  t.same(
    seen.slice(1).map((s) => [s.method, s.url, s.key]),
    [
      ['GET', '/wait/1?sig=s', undefined],
      ['GET', '/wait/1?sig=s', undefined],
      ['GET', '/wait/1?sig=s', undefined],
    ],
  );
});

t.test(
  'the action timeout ends a long wait as TimedOut; turning the pattern off returns the 202',
  async (t) => {
    const { origin } = await serve(t, (_req, res) =>
      json(res, 202, { status: 'Running' }, { location: `${origin}/wait`, 'retry-after': '60' }),
    );
    const timed = new FlowEngine({ definition, origin, maxSleepMs: 1, actionTimeoutMs: 150_000 });
    const r1 = await timed.run('RunThing', { id: 'x', 'body/note': 'n' });
    t.equal(r1.status, 'TimedOut');
    t.equal(r1.polls, 2);
    const off = new FlowEngine({ definition, origin, maxSleepMs: 1, asyncPattern: false });
    const r2 = await off.run('RunThing', { id: 'x', 'body/note': 'n' });
    t.equal(r2.status, 'Succeeded');
    t.equal(r2.statusCode, 202);
    t.same(r2.body, { status: 'Running' });
  },
);

t.test('Pagination follows nextLink with the connection key and joins the pages', async (t) => {
  const { engine, seen, origin } = await serve(t, (req, res) => {
    const n = Number(new URL(req.url!, origin).searchParams.get('page') ?? 0);
    const next = n < 2 ? `${origin}/v1/things?page=${n + 1}` : null;
    json(res, 200, { value: [`item${n}a`, `item${n}b`], nextLink: next });
  });
  const result = await engine.runPaged('ListThings');
  t.equal(result.status, 'Succeeded');
  t.equal(result.pages, 3);
  t.same(result.body.value, ['item0a', 'item0b', 'item1a', 'item1b', 'item2a', 'item2b']);
  t.same(seen.map((s) => [s.url, s.key]), [
    ['/v1/things', 'secret-key'],
    ['/v1/things?page=1', 'secret-key'],
    ['/v1/things?page=2', 'secret-key'],
  ]);
  const capped = await engine.runPaged('ListThings', {}, 3);
  t.equal(capped.body.value.length, 3, 'the threshold stops it');
  await t.rejects(engine.runPaged('RunThing'), /not pageable/);
});
