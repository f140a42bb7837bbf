// Reads an upstream error body, whatever shape it has, into {code, message, extra}. Shapes seen
// in captured answers (test/fixtures/upstream-shapes): the BAP envelope {error:{code,message,details?}}, PPAPI's flat
// {code,message}, ErrorDetails {errorCode (number or hex string), errorName, message, ...}, OAuth
// {error, error_description}, ASP.NET {Message}, and HTML or empty bodies from gateways.

import { parseEntraError } from './entra-error.js';

export interface ParsedErrorBody {
  code?: string;
  message?: string;
  /** BAP `details`, ErrorDetails fields or other structured leftovers worth showing to an admin. */
  extra?: unknown;
}

const MAX_TEXT = 300;

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An ErrorDetails object has errorCode and/or errorName next to message. */
function fromErrorDetails(o: Record<string, unknown>): ParsedErrorBody | undefined {
  if (!('errorCode' in o) && !('errorName' in o)) return undefined;
  const code = str(o.errorName) ?? str(o.errorCode);
  return { code, message: str(o.message), extra: o };
}

export function parseErrorObject(body: unknown): ParsedErrorBody {
  if (!isObject(body)) return {};
  const envelope = body.error;
  if (isObject(envelope)) {
    const details = fromErrorDetails(envelope);
    if (details && !('code' in envelope)) return details;
    const extra = envelope.details ?? envelope.innererror ?? envelope.innerError;
    return {
      code: str(envelope.code),
      message: str(envelope.message) ?? str(envelope.Message),
      ...(extra !== undefined ? { extra } : {}),
    };
  }
  // OAuth 2.0 / Entra: {error: "invalid_client", error_description: "AADSTS7000215: ..."}
  if (typeof envelope === 'string') {
    const entra = parseEntraError(typeof body.error_description === 'string' ? body.error_description : undefined, body);
    const message = entra.aadstsCode ? `${entra.aadstsCode}: ${entra.message ?? ''}`.trim() : entra.message;
    return { code: envelope, message: message ?? envelope, extra: { ...pickOAuthExtra(body), ...entra } };
  }
  const details = fromErrorDetails(body);
  if (details) return details;
  for (const key of ['errorDetails', 'lastError']) {
    const nested = body[key];
    if (isObject(nested)) {
      const parsed = fromErrorDetails(nested) ?? parseErrorObject(nested);
      if (parsed.code || parsed.message) return parsed;
    }
  }
  const code = str(body.code) ?? str(body.Code);
  const message = str(body.message) ?? str(body.Message);
  const extra = body.details ?? body.Details;
  return { code, message, ...(extra !== undefined ? { extra } : {}) };
}

function pickOAuthExtra(body: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const k of ['error_codes', 'suberror']) if (k in body) extra[k] = body[k];
  return extra;
}

/** Parse raw body text; falls back to the text itself (HTML title or the first few hundred chars). */
export function parseErrorText(text: string | undefined | null, contentType?: string): ParsedErrorBody {
  const t = (text ?? '').trim();
  if (t === '') return {};
  if (t.startsWith('{') || t.startsWith('[') || contentType?.includes('json')) {
    try {
      const parsed = parseErrorObject(JSON.parse(t));
      if (parsed.code || parsed.message) return parsed;
    } catch {
      // not JSON after all: fall through to the text forms
    }
  }
  if (/^<(!doctype|html|\?xml|[a-z])/i.test(t)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(t)?.[1]?.trim();
    const plain = t
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const message = title || plain;
    return message ? { message: message.slice(0, MAX_TEXT) } : {};
  }
  return { message: t.replace(/\s+/g, ' ').slice(0, MAX_TEXT) };
}

const NOT_REGISTERED = /does not have permission to access the path/i;

export function isUnregisteredManagementApp(status: number, parsed: ParsedErrorBody, rawText?: string): boolean {
  return status === 403 && (NOT_REGISTERED.test(parsed.message ?? '') || NOT_REGISTERED.test(rawText ?? ''));
}

/** The message an admin needs when BAP refuses an unregistered service principal. */
export function unregisteredManagementAppMessage(clientId: string | undefined, bapBaseUrl: string): string {
  const id = clientId ?? '<client id>';
  return (
    `Power Platform refused the relay's service principal (client id ${id}) because it is not registered as a ` +
    'Power Platform management application. An admin user (not the service principal itself) must register it once: ' +
    `run "pac admin application register --application-id ${id}", or send PUT ${bapBaseUrl}/providers/Microsoft.BusinessAppPlatform/adminApplications/${id}?api-version=2020-10-01 ` +
    'with an admin user token, or add it in the Power Platform admin center (Settings > Tenant settings > ' +
    'Service principal / management applications). Then retry.'
  );
}
