// URL building for upstream calls: path segments are always encoded, so ids from a request can
// never change which upstream path (or host) is called.
//
// Built as strings rather than through `new URL` on every call (about 3 % of the relay's CPU per
// request in the relay-overhead profile); the base is normalised by URL once and remembered.
import { RelayError } from '../errors.js';

const normalisedBases = new Map<string, string>();

function normalisedBase(base: string): string {
  let found = normalisedBases.get(base);
  if (found === undefined) {
    found = new URL(base).href.replace(/\/+$/, '');
    // Config names a handful of bases; the bound only guards against a caller passing many.
    if (normalisedBases.size < 64) normalisedBases.set(base, found);
  }
  return found;
}

/** One path segment, encoded. "." and ".." are refused: URL parsing (ours, undici's or
 *  upstream's) resolves them, percent-encoded or not, into a different path. */
function segment(value: string): string {
  if (value === '.' || value === '..') {
    throw new RelayError(400, 'InvalidRequest', `"${value}" is not a valid path value: ids and names are never "." or "..".`);
  }
  return encodeURIComponent(value);
}

export function upstreamUrl(
  base: string,
  segments: readonly string[],
  query: Record<string, string | undefined> = {},
): string {
  let url = normalisedBase(base);
  for (const s of segments) url += `/${segment(s)}`;
  if (segments.length === 0) url += '/';
  let separator = '?';
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === '') continue;
    url += `${separator}${encodeURIComponent(k)}=${encodeURIComponent(v)}`;
    separator = '&';
  }
  return url;
}

export interface UrlParts {
  origin: string;
  hostname: string;
  /** Path and query, as sent in the request line. */
  path: string;
}

const PLAIN_ORIGIN = /^(https?:\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d+)?)(\/[^#]*)?$/;

/** origin, hostname and path of an absolute URL the relay built or accepted. A string split for the
 *  plain shapes the relay makes (lower-case host, no user info, no fragment); anything else goes
 *  through URL, so an odd link is never split differently from how URL reads it. */
export function urlParts(href: string): UrlParts {
  const plain = PLAIN_ORIGIN.exec(href);
  if (plain?.[1] && plain[2]) return { origin: plain[1], hostname: plain[2], path: plain[3] ?? '/' };
  const url = new URL(href);
  return { origin: url.origin, hostname: url.hostname, path: `${url.pathname}${url.search}` };
}

/** Resolves a link upstream gave us (nextLink, Location) and accepts it only on the expected origin:
 *  the relay never sends its token to a host that config did not name. */
export function sameOriginLink(link: string, base: string): URL | undefined {
  try {
    const resolved = new URL(link, `${base.replace(/\/+$/, '')}/`);
    return resolved.origin === new URL(base).origin ? resolved : undefined;
  } catch {
    return undefined;
  }
}
