// Property-based fuzzing of every operation in the generated connector definition: whatever the
// input (see definition-requests.ts), the relay answers 2xx (the input happened to be valid) or a
// 4xx with the error shape — never a 5xx, a stack trace or a crash — and stays up afterwards.
import fc from 'fast-check';
import t from 'tap';
import { request } from 'undici';
import { startStack } from '../helpers/stack.js';
import { type FuzzRequest, loadOperations, requestFor } from './definition-requests.js';

const RUNS_PER_OPERATION = 100;
const STACK_TRACE = /\n\s+at |node_modules|\.(?:ts|js):\d+:\d+/;

interface Answer {
  status: number;
  text: string;
  contentType: string;
}

async function send(baseUrl: string, r: FuzzRequest): Promise<Answer> {
  const res = await request(`${baseUrl}${r.path}`, {
    method: r.method as 'GET',
    headers: r.headers,
    ...(r.body !== undefined ? { body: r.body } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.statusCode, text: await res.body.text(), contentType: String(res.headers['content-type'] ?? '') };
}

/** Throws (so fast-check reports the input) when the answer breaks the contract. */
function check(r: FuzzRequest, a: Answer, documented: string[]) {
  try {
    checkOrThrow(r, a, documented);
  } catch (err) {
    lastFailure = (err as Error).message;
    throw err;
  }
}

/** fast-check's report starts with the (possibly huge) counterexample; this is the short reason. */
let lastFailure = '';

function checkOrThrow(r: FuzzRequest, a: Answer, documented: string[]) {
  const where = `${r.method} ${r.path.slice(0, 200)} [${r.shape}] → ${a.status} ${a.text.slice(0, 300)}`;
  if (a.status >= 500) throw new Error(`server error: ${where}`);
  if (STACK_TRACE.test(a.text)) throw new Error(`stack trace in the answer: ${where}`);
  if (a.status >= 200 && a.status < 300) {
    if (!documented.includes(String(a.status))) throw new Error(`undocumented success status: ${where}`);
    return;
  }
  if (a.status < 400) throw new Error(`unexpected status: ${where}`);
  let body: { error?: { code?: unknown; message?: unknown; correlationId?: unknown } };
  try {
    body = JSON.parse(a.text);
  } catch {
    throw new Error(`4xx without a JSON error body: ${where}`);
  }
  const e = body.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || e.message.length < 10 || typeof e.correlationId !== 'string') {
    throw new Error(`4xx without the error shape {code, message, correlationId}: ${where}`);
  }
}

t.test('every operation in the definition, fuzzed', async (t) => {
  const stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '10000000', UPSTREAM_DEADLINE_SECONDS: '5' } });
  t.teardown(() => stack.close());
  const operations = loadOperations();
  t.ok(operations.length >= 12, `the definition has the operations (${operations.length})`);

  const statuses = new Map<number, number>();
  for (const [i, op] of operations.entries()) {
    const seen = new Map<number, number>();
    try {
      await fc.assert(
        fc.asyncProperty(requestFor(op, stack.apiKey), async (r) => {
          const a = await send(stack.baseUrl, r);
          seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
          check(r, a, op.responses);
        }),
        { numRuns: RUNS_PER_OPERATION, seed: 7_000 + i, endOnFailure: true },
      );
      t.pass(`${op.operationId}: ${RUNS_PER_OPERATION} inputs, answers ${[...seen].map(([s, n]) => `${s}×${n}`).join(' ')}`);
    } catch (err) {
      t.fail(`${op.operationId}: ${lastFailure || (err as Error).message.slice(0, 500)}`);
    }
    for (const [s, n] of seen) statuses.set(s, (statuses.get(s) ?? 0) + n);
  }

  const health = await request(`${stack.baseUrl}/healthz`);
  await health.body.dump();
  t.equal(health.statusCode, 200, 'the relay is still up');
  const count = (pred: (s: number) => boolean) => [...statuses].filter(([s]) => pred(s)).reduce((n, [, c]) => n + c, 0);
  t.ok(count((s) => s >= 400 && s < 500) > 0, 'hostile inputs were refused with 4xx');
  t.ok(count((s) => s >= 200 && s < 300) > 0, 'some inputs were valid and answered 2xx (the generator reaches the services)');
  t.equal(Object.hasOwn(Object.prototype, 'polluted'), false, 'no prototype pollution (the relay runs in this process)');
});
