// What every surface shares: route metadata, the two error envelopes, and the bearer-token check.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import type { SimState } from './state.js';
import { type TokenAuthority, TokenProblem } from './tokens.js';
import type { RouteName } from './types.js';

export type Surface = 'entra' | 'ppapi' | 'bap';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Simulator routes: the name used by faults and the call log. */
    routeName?: RouteName;
    /** Simulator routes: which error envelope the surface uses. */
    surface?: Surface;
  }
}

export interface RouteMeta {
  routeName: RouteName;
  surface: Surface;
}

/** What the route files need from the running simulator. */
export interface SimContext {
  state: SimState;
  tokens: TokenAuthority;
  origin(): string;
}

export const PPAPI_AUDIENCES = ['https://api.powerplatform.com', 'https://api.powerplatform.com/'];
export const BAP_AUDIENCES = ['https://service.powerapps.com/', 'https://service.powerapps.com'];

export function routeMeta(request: FastifyRequest): RouteMeta | undefined {
  const config = request.routeOptions?.config as Partial<RouteMeta> | undefined;
  return config?.routeName && config.surface ? (config as RouteMeta) : undefined;
}

/** BAP / Governance envelope: {"error":{"code","message",...}}. */
export function bapError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: unknown[],
) {
  return reply
    .code(status)
    .send({ error: { code, message, ...(details ? { details } : {}), detailUrlType: 'NotSpecified' } });
}

/** PPAPI appmanagement as observed live: a flat {"code","message"}. */
export function ppapiError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ code, message });
}

export function surfaceError(
  reply: FastifyReply,
  surface: 'bap' | 'ppapi',
  status: number,
  code: string,
  message: string,
) {
  return surface === 'bap'
    ? bapError(reply, status, code, message)
    : ppapiError(reply, status, code, message);
}

/**
 * Checks the bearer token like upstream: none or invalid → 401 with WWW-Authenticate: Bearer.
 * Sends the error and returns undefined when the call must stop.
 */
export async function authenticate(
  ctx: SimContext,
  request: FastifyRequest,
  reply: FastifyReply,
  surface: 'bap' | 'ppapi',
): Promise<JWTPayload | undefined> {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const authorizationUri = `${ctx.origin()}/${ctx.state.homeTenantId}/oauth2/authorize`;
  if (!match) {
    reply.header('www-authenticate', `Bearer authorization_uri="${authorizationUri}", error="invalid_token"`);
    surfaceError(
      reply,
      surface,
      401,
      'MissingAuthenticationToken',
      'The request did not include an access token.',
    );
    return undefined;
  }
  try {
    return await ctx.tokens.verify(match[1]!, surface === 'bap' ? BAP_AUDIENCES : PPAPI_AUDIENCES);
  } catch (err) {
    const problem = err instanceof TokenProblem ? err : new TokenProblem('invalid_token', String(err));
    const description = problem.message.replace(/"/g, "'");
    reply.header(
      'www-authenticate',
      `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="${description}"`,
    );
    const code = problem.reason === 'expired' ? 'ExpiredAuthenticationToken' : 'InvalidAuthenticationToken';
    surfaceError(reply, surface, 401, code, problem.message);
    return undefined;
  }
}

/** App-only tokens carry no scp; delegated (user) tokens do. */
export function isAppOnly(claims: JWTPayload): boolean {
  return typeof claims['scp'] !== 'string';
}

export function claim(claims: JWTPayload, name: string): string {
  const v = claims[name];
  return typeof v === 'string' ? v : '';
}
