// An @azure/core-rest-pipeline HttpClient on top of our undici pools, handed to every
// @azure/identity credential. That way token requests trust UPSTREAM_CA_FILE (the simulator's CA)
// and share keep-alive connections, without touching process-wide TLS settings.
// The types come from the identity options so no extra package is needed.
import type { TokenCredentialOptions } from '@azure/identity';
import type { UpstreamPools } from './pools.js';

type HttpClient = NonNullable<TokenCredentialOptions['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;
type HttpHeaders = PipelineResponse['headers'];

class SimpleHeaders implements HttpHeaders {
  private readonly map = new Map<string, { name: string; value: string }>();
  get(name: string) {
    return this.map.get(name.toLowerCase())?.value;
  }
  has(name: string) {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string | number | boolean) {
    this.map.set(name.toLowerCase(), { name, value: String(value) });
  }
  delete(name: string) {
    this.map.delete(name.toLowerCase());
  }
  toJSON(options?: { preserveCase?: boolean }) {
    const out: Record<string, string> = {};
    for (const [key, { name, value }] of this.map) out[options?.preserveCase ? name : key] = value;
    return out;
  }
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const [key, { value }] of this.map) yield [key, value];
  }
}

function requestBody(body: PipelineRequest['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Identity only sends form-encoded strings; anything else is a programming error worth seeing.
  throw new Error('identity HTTP client: unsupported request body type');
}

export function createIdentityHttpClient(pools: UpstreamPools): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      for (const [name, value] of request.headers) headers[name] = value;
      if (request.formData && !request.body) {
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(request.formData)) {
          for (const item of Array.isArray(v) ? v : [v]) if (typeof item === 'string') form.append(k, item);
        }
        request.body = form.toString();
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
      }
      const signals: AbortSignal[] = [];
      if (request.abortSignal) signals.push(request.abortSignal as AbortSignal);
      if (request.timeout > 0) signals.push(AbortSignal.timeout(request.timeout));
      const res = await pools.forOrigin(url.origin).request({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
        body: requestBody(request.body),
        ...(signals.length ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
      });
      const responseHeaders = new SimpleHeaders();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const bodyAsText = await res.body.text();
      return { request, status: res.statusCode, headers: responseHeaders, bodyAsText };
    },
  };
}
