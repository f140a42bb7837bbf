// Reading X-Forwarded-Host and X-Forwarded-Proto without trusting their spelling. Even behind a
// trusted proxy these values may come from the caller (many proxies pass an existing header on),
// and they end up in Location, which the flow engine follows: a value such as "evil.example/x?",
// "a@evil.example" or scheme "javascript" must not get there.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { normalizeHostPort } from '../host-port.js';

/** The entry the nearest proxy wrote: the last of a comma-separated (or repeated) header. */
function lastEntry(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined.split(',').pop()?.trim();
}

export interface ForwardedOrigin {
  host: string;
  /** Undefined when the proxy sent no X-Forwarded-Proto. */
  protocol?: 'http' | 'https';
}

/**
 * The forwarded host and scheme when both are well formed and the host is allowed (an empty
 * allow-list allows any well-formed host); undefined when there is no forwarded host or either
 * value is unusable, so the caller falls back to PUBLIC_BASE_URL.
 */
export function forwardedOrigin(
  headers: Record<string, string | string[] | undefined>,
  allowedHosts: readonly string[],
): ForwardedOrigin | undefined {
  const rawHost = lastEntry(headers['x-forwarded-host']);
  if (!rawHost) return undefined;
  const host = normalizeHostPort(rawHost);
  if (!host || (allowedHosts.length > 0 && !allowedHosts.includes(host))) return undefined;
  const rawProto = lastEntry(headers['x-forwarded-proto']);
  if (rawProto === undefined || rawProto === '') return { host };
  const protocol = rawProto.toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') return undefined;
  return { host, protocol };
}

/**
 * What Location must start with: PUBLIC_BASE_URL, or behind a trusted proxy the forwarded host
 * under PUBLIC_BASE_URL's path prefix (the proxy strips it before the relay sees the request, so
 * it is only known from configuration). Without X-Forwarded-Proto the scheme is PUBLIC_BASE_URL's:
 * the hop from the proxy is often plain http while callers use https. A forwarded host or scheme
 * that is not well formed, or a host outside PUBLIC_HOSTS when that is set, is ignored.
 */
export function publicOrigin(
  request: Pick<FastifyRequest, 'headers'>,
  config: Pick<Config, 'publicBaseUrl' | 'trustProxy'> & Partial<Pick<Config, 'publicHosts'>>,
): string {
  if (!config.trustProxy) return config.publicBaseUrl;
  const forwarded = forwardedOrigin(request.headers, config.publicHosts ?? []);
  if (!forwarded) return config.publicBaseUrl;
  const base = new URL(config.publicBaseUrl);
  const protocol = forwarded.protocol ?? base.protocol.replace(/:$/, '');
  return `${protocol}://${forwarded.host}${base.pathname.replace(/\/+$/, '')}`;
}
