// Test helpers: an undici client that trusts the simulator's CA, and app tokens from its token endpoint.
import { Agent, request } from 'undici';
import type { Simulator } from '../../src/simulator/index.js';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test code reads arbitrary JSON shapes
  json: any;
}

const agents = new WeakMap<Simulator, Agent>();

export function agentFor(sim: Simulator): Agent {
  let agent = agents.get(sim);
  if (!agent) {
    agent = new Agent({ connect: { ca: sim.caCertPem } });
    agents.set(sim, agent);
  }
  return agent;
}

export async function call(
  sim: Simulator,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  pathOrUrl: string,
  opts: {
    token?: string;
    body?: unknown;
    form?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${sim.origin}${pathOrUrl}`;
  const res = await request(url, { method, headers, body, dispatcher: agentFor(sim) });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = String(v);
  return { status: res.statusCode, headers: flat, text, json };
}

export const PPAPI_SCOPE = 'https://api.powerplatform.com/.default';
export const BAP_SCOPE = 'https://service.powerapps.com/.default';

/** An app-only token for the relay app from the simulator's token endpoint (client secret). */
export async function appToken(sim: Simulator, scope: string): Promise<string> {
  const res = await call(sim, 'POST', `/${sim.tenantId}/oauth2/v2.0/token`, {
    form: {
      grant_type: 'client_credentials',
      client_id: sim.relayApp.clientId,
      client_secret: sim.relayApp.clientSecret,
      scope,
    },
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${res.text}`);
  return res.json.access_token;
}

export function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

export async function closeAll(sim: Simulator): Promise<void> {
  await agentFor(sim).close();
  await sim.close();
}
