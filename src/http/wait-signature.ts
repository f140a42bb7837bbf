// Reading the `sig` of a signed wait URL from the raw request URL: the one parser that both the
// auth hook (to let a signed GET in without credentials) and the wait route (to verify it) use, so
// "%73ig=" or a repeated sig cannot pass one and be missed by the other.

/**
 * The request URL with `sig` taken out: what the signature covers. `waitSeconds` is left out of
 * it too: how long a request is held changes nothing about what it may read, and it lets an HTTP
 * action (or a benchmark) long-poll the Location URL as given.
 */
export function unsignedRequestTarget(rawUrl: string): { target: string; sig: string | undefined } {
  const at = rawUrl.indexOf('?');
  if (at < 0) return { target: rawUrl, sig: undefined };
  let sig: string | undefined;
  let sigs = 0;
  const kept: string[] = [];
  for (const part of rawUrl.slice(at + 1).split('&')) {
    if (part.startsWith('sig=')) {
      sigs++;
      sig = part.slice(4);
    } else if (part !== '' && !part.startsWith('waitSeconds=')) kept.push(part);
  }
  // Two signatures are one too many: refuse rather than guess which one counts.
  if (sigs > 1) sig = '';
  const path = rawUrl.slice(0, at);
  return { target: kept.length ? `${path}?${kept.join('&')}` : path, sig };
}

/** The `sig` of a signed wait URL when there is exactly one non-empty one; undefined otherwise. */
export function waitSignature(rawUrl: string): string | undefined {
  const { sig } = unsignedRequestTarget(rawUrl);
  return sig === '' ? undefined : sig;
}
