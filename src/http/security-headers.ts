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
  app.addHook('onRequest', (request, reply, done) => {
    setSecurityHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
  });
}

export const securityHeadersPlugin = relayPlugin((app) => registerSecurityHeaders(app), { name: 'relay-security-headers' });
