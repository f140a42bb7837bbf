// Invariants every resilience scenario checks on every answer: a documented status, the one error
// shape with a message a person can act on, no 500 and no stack trace; and a bound on every
// request so a hang fails the test instead of blocking it.
import type { Test } from 'tap';
import { request as undiciRequest } from 'undici';
import type { RouteName } from '../../src/simulator/index.js';
import type { Stack, StackResponse } from '../helpers/stack.js';

/** Statuses the definition documents: 200/202 results, and the error statuses the relay uses. */
export const DOCUMENTED_STATUSES = new Set([
  200, 202, 400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 502, 503, 504,
]);

const STACK_TRACE = /\n\s+at |node_modules|\.(?:ts|js):\d+:\d+/;

/** Checks one answer; returns false (and records failures) when it breaks an invariant. */
export function checkAnswer(t: Test, res: StackResponse, what: string): boolean {
  let ok = true;
  const raw = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');
  if (!DOCUMENTED_STATUSES.has(res.status))
    ok = t.fail(`${what}: undocumented status ${res.status}: ${raw.slice(0, 300)}`) && ok;
  if (STACK_TRACE.test(raw))
    ok = t.fail(`${what}: the answer leaks a stack trace: ${raw.slice(0, 300)}`) && ok;
  if (res.status >= 400) {
    const e = res.body?.error;
    const shaped =
      e &&
      typeof e.code === 'string' &&
      e.code.length > 0 &&
      typeof e.message === 'string' &&
      e.message.length >= 20 &&
      typeof e.correlationId === 'string' &&
      e.correlationId.length > 0;
    if (!shaped)
      ok =
        t.fail(
          `${what}: ${res.status} without the error shape {code, message, correlationId}: ${raw.slice(0, 300)}`,
        ) && ok;
    if ((res.status === 429 || res.status === 503) && !/^\d+$/.test(res.headers['retry-after'] ?? '')) {
      ok = t.fail(`${what}: ${res.status} without a Retry-After in seconds`) && ok;
    }
  }
  return ok;
}

/**
 * stack.request with a hard bound: a request still unanswered after `ms` rejects, so a hang fails
 * the test. The bound is generous (several times the deadline under test), never a timing assertion.
 */
export async function boundedRequest(
  stack: Stack,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
  ms = 30_000,
): Promise<StackResponse> {
  return boundedUrl(
    `${stack.baseUrl}${path}`,
    method,
    { 'x-api-key': stack.apiKey, ...init.headers },
    init.body,
    ms,
  );
}

export async function boundedUrl(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
  ms = 30_000,
): Promise<StackResponse> {
  const h: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const signal = AbortSignal.timeout(ms);
  let res: Awaited<ReturnType<typeof undiciRequest>>;
  try {
    res = await undiciRequest(url, { method: method as 'GET', headers: h, body: payload, signal });
  } catch (err) {
    if (signal.aborted) throw new Error(`${method} ${url} was not answered within ${ms} ms (hang)`);
    throw err;
  }
  const text = await res.body.text();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers))
    if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
  let parsed: unknown = text === '' ? undefined : text;
  if (text && (flat['content-type'] ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {}
  }
  return { status: res.statusCode, headers: flat, body: parsed };
}

/** The rules stored upstream, as `tenantId → "inbound/outbound"` (lower-case ids). */
export function storedRules(stack: Stack): Map<string, string> {
  const raw = stack.sim.control.getPolicy() as
    | {
        properties?: {
          allowedTenants?: Array<{
            tenantId?: string;
            direction?: { inbound?: boolean; outbound?: boolean };
          }>;
        };
      }
    | undefined;
  return new Map(
    (raw?.properties?.allowedTenants ?? []).map((e) => [
      String(e.tenantId).toLowerCase(),
      `${!!e.direction?.inbound}/${!!e.direction?.outbound}`,
    ]),
  );
}

export const countCalls = (stack: Stack, route: RouteName) => stack.sim.control.calls({ route }).length;
