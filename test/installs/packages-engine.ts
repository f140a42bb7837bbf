// A flow-engine-style client for the install tests: it follows 202 + Location + Retry-After until a
// non-202, without the connection's credentials (only the signed URL), and retries 429/5xx like
// the engine's default policy. Retry-After is scaled down so tests stay fast (the simulator is too).
import { request } from 'undici';

export interface EngineAnswer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies, checked field by field with t.match
  body: any;
}

export interface EngineRun {
  final: EngineAnswer;
  polls: number;
  retryAfters: number[];
  locations: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function getAbsolute(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<EngineAnswer> {
  const res = await request(url, { method: 'GET', headers, ...(signal ? { signal } : {}) });
  const text = await res.body.text();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.statusCode, headers: flat, body };
}

export async function followLikeEngine(first: EngineAnswer, opts: { scale?: number; maxPolls?: number } = {}): Promise<EngineRun> {
  const scale = opts.scale ?? 0.1;
  const run: EngineRun = { final: first, polls: 0, retryAfters: [], locations: [] };
  let res = first;
  let location = first.headers.location;
  let retries = 0;
  while (res.status === 202 || ((res.status === 429 || res.status >= 500) && retries < 8)) {
    if (res.status === 202) {
      location = res.headers.location;
      if (!location) throw new Error('202 without Location');
      run.locations.push(location);
      retries = 0;
    } else retries++;
    const retryAfter = Number(res.headers['retry-after'] ?? '1');
    run.retryAfters.push(retryAfter);
    if (run.polls++ > (opts.maxPolls ?? 200)) throw new Error('the engine gave up polling');
    await sleep(retryAfter * 1000 * scale);
    res = await getAbsolute(location!);
  }
  run.final = res;
  return run;
}
