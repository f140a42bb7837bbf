// Security headers through helmet. The API answers JSON only, so the strict defaults fit; the
// Content-Security-Policy is loosened just enough for Swagger UI at /docs (its inline styles,
// data: images and the validator badge off) and stays strict elsewhere.
//
// helmet itself, not @fastify/helmet: the plugin rebuilds helmet's middleware (parsing every CSP
// directive again) on each request, about 3 % of the relay's CPU in a profile of the relay-overhead
// benchmark. One configuration serves every route here, so the middleware is built once.
import helmet from 'helmet';
import { type RelayApp, relayPlugin } from './relay-app.js';

export async function registerSecurityHeaders(app: RelayApp) {
  const setSecurityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    // The relay may sit behind plain http on loopback in the demo; HSTS belongs to the TLS front end
    // but does no harm when sent over https.
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
  });
  const headers = Object.fromEntries(recordHeaders(setSecurityHeaders));
  // Added when the answer is sent, not when the request arrives: a held long poll then carries
  // none of them while it waits (set on the raw response, they cost every held wait an array per
  // header and a header table), and Fastify writes them with its own headers in one writeHead.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(headers);
    done(null, payload);
  });
}

type HelmetMiddleware = ReturnType<typeof helmet>;

/** The headers helmet sets, in its order. helmet only sets and removes headers (X-Powered-By, which
 *  Node never sends); it finishes synchronously, which the check below makes sure of. */
function recordHeaders(middleware: HelmetMiddleware): Array<[string, string]> {
  const recorded: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: string) {
      recorded.push([name, value]);
    },
    removeHeader() {},
  };
  let finished = false;
  middleware({} as Parameters<HelmetMiddleware>[0], recorder as unknown as Parameters<HelmetMiddleware>[1], (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished || recorded.length === 0) throw new Error('helmet did not set its headers synchronously');
  return recorded;
}

export const securityHeadersPlugin = relayPlugin((app) => registerSecurityHeaders(app), { name: 'relay-security-headers' });
