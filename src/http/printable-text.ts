// Error text the relay writes must be printable ASCII: it goes into JSON bodies read by people and
// flow designers, and parts of it into headers, where Node refuses CR/LF and anything above U+00FF.
// Values a caller sent (token claims, headers) are passed through here before they are quoted.

const NOT_PRINTABLE = /[^\x20-\x7e]/g;

/** `value` as printable ASCII: other characters become "?", and long values are cut to `max`. */
export function printableAscii(value: unknown, max = 120): string {
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).replace(NOT_PRINTABLE, '?');
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
