// Reading X-Forwarded-Host and X-Forwarded-Proto without trusting their spelling. Even behind a
// trusted proxy these values may come from the caller (many proxies pass an existing header on),
// and they end up in Location, which the flow engine follows: a value such as "evil.example/x?",
// "a@evil.example" or scheme "javascript" must not get there.
import { isIPv6 } from 'node:net';

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HOST_PORT = /^(\[[^\]]+\]|[^:[\]]+)(?::([1-9]\d{0,4}))?$/;

/** `value` as a lower-case host[:port] (DNS name, IPv4 or [IPv6], port 1-65535), or undefined
 *  when it is anything else: userinfo, a path, a query, a fragment, spaces, non-ASCII. */
export function normalizeHostPort(value: string): string | undefined {
  const m = HOST_PORT.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, host, port] = m;
  const validHost = host!.startsWith('[') ? isIPv6(host!.slice(1, -1)) : DNS_NAME.test(host!);
  if (!validHost || (port !== undefined && Number(port) > 65535)) return undefined;
  return port === undefined ? host : `${host}:${port}`;
}

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
