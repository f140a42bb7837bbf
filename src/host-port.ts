// Host[:port] spelling checks shared by configuration (PUBLIC_BASE_URL, ALLOWED_FORWARDED_HOSTS) and
// the forwarded-origin reader: a pure function on the ground floor so config.ts imports no HTTP code.
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
