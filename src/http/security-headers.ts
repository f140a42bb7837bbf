// Security headers through @fastify/helmet. The API answers JSON only, so the strict defaults fit;
// the Content-Security-Policy is loosened just enough for Swagger UI at /docs (its inline styles,
// data: images and the validator badge off) and stays strict elsewhere.
import helmet from '@fastify/helmet';
import type { RelayApp } from '../app.js';

export async function registerSecurityHeaders(app: RelayApp) {
  await app.register(helmet, {
    global: true,
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
}
