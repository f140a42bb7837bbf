// The relay's Fastify instance type, in a module of its own so plugins and feature routes can name
// it without importing app.ts (which imports them), and the one way a plugin is declared.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import fp from 'fastify-plugin';

/** The relay's Fastify instance type: zod schemas on every route. */
export type RelayApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/**
 * A Fastify plugin over the relay's typed instance, named so Fastify checks at boot that the
 * plugins it depends on (and the decorators it reads) were registered before it. Shared plugins
 * stay at the root (fastify-plugin's default); a feature passes `encapsulate: true` so its own
 * hooks and decorators stay inside it.
 */
export function relayPlugin<Options extends object = Record<never, never>>(
  register: (app: RelayApp, options: Options) => Promise<void> | void,
  meta: { name: string; dependencies?: string[]; decorators?: { fastify?: string[]; request?: string[] }; encapsulate?: boolean },
) {
  return fp<Options>(async (app, options) => register(app.withTypeProvider<ZodTypeProvider>(), options), {
    fastify: '5.x',
    ...meta,
  });
}
