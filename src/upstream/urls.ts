// URL building for upstream calls: path segments are always encoded, so ids from a request can
// never change which upstream path (or host) is called.

export function upstreamUrl(
  base: string,
  segments: readonly string[],
  query: Record<string, string | undefined> = {},
): string {
  const path = segments.map((s) => encodeURIComponent(s)).join('/');
  const url = new URL(`${base.replace(/\/+$/, '')}/${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  return url.toString();
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
