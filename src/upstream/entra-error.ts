// Entra ID error descriptions carry what a support ticket needs on lines of their own:
//   "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …"
// and MSAL (inside @azure/identity) wraps that text again ("invalid_client: Error(s): 7000215 -
// Timestamp: … - Description: AADSTS…"). Keeping only the first line loses the ids, so the parts
// are read out one by one, from whichever wrapping arrived.

export interface EntraErrorDetails {
  /** The OAuth error code, e.g. "invalid_client". */
  error?: string;
  /** e.g. "AADSTS7000215". */
  aadstsCode?: string;
  /** The sentence after the AADSTS code, on one line. */
  message?: string;
  traceId?: string;
  correlationId?: string;
  timestamp?: string;
}

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const AADSTS = /\b(AADSTS\d+):[ \t]*([^\r\n]*)/;
const TRACE_ID = new RegExp(`Trace ID:\\s*(${GUID})`, 'i');
const CORRELATION_ID = new RegExp(`Correlation ID:\\s*(${GUID})`, 'i');
const TIMESTAMP = /Timestamp:\s*(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?)/i;
/** MSAL's own prefix: "invalid_client: Error(s): 7000215 - Timestamp: … - Description: ". */
const MSAL_PREFIX = /^([a-z_]+): Error\(s\):.*?- Description:\s*/is;

/** The parts of an Entra error text; `fields` (the OAuth body's own keys, when there was a body) win. */
export function parseEntraError(
  text: string | undefined,
  fields: { error?: unknown; trace_id?: unknown; correlation_id?: unknown; timestamp?: unknown } = {},
): EntraErrorDetails {
  const t = text ?? '';
  const aadsts = AADSTS.exec(t);
  const firstLine = t.replace(MSAL_PREFIX, '').split(/\r?\n|\r/)[0]?.trim();
  const out: EntraErrorDetails = {
    error: str(fields.error) ?? MSAL_PREFIX.exec(t)?.[1] ?? /^([a-z_]+):/.exec(t)?.[1],
    aadstsCode: aadsts?.[1],
    message: (aadsts?.[2] ?? firstLine ?? '').trim() || undefined,
    traceId: str(fields.trace_id) ?? TRACE_ID.exec(t)?.[1],
    correlationId: str(fields.correlation_id) ?? CORRELATION_ID.exec(t)?.[1],
    timestamp: str(fields.timestamp) ?? TIMESTAMP.exec(t)?.[1],
  };
  for (const k of Object.keys(out) as Array<keyof EntraErrorDetails>) if (out[k] === undefined) delete out[k];
  return out;
}

/** "AADSTS7000215: Invalid client secret provided. (trace id …, correlation id …)" for a message. */
export function entraErrorSentence(d: EntraErrorDetails, fallback: string): string {
  const said = d.aadstsCode ? `${d.aadstsCode}: ${d.message ?? ''}`.trim() : (d.message ?? fallback);
  const ids = [d.traceId && `trace id ${d.traceId}`, d.correlationId && `correlation id ${d.correlationId}`].filter(Boolean);
  return ids.length ? `${said} (${ids.join(', ')})` : said;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
