// The relay's Fastify instance type, in a module of its own so plugins and feature routes can name
// it without importing app.ts (which imports them), and the one way a plugin is declared.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions, RawServerDefault } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import fp from 'fastify-plugin';

/** The relay's Fastify instance type: zod schemas on every route. */
export type RelayApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/**
 * Fastify's schema compilers for an instance whose every schema is zod. Given at construction, they
 * keep Fastify from loading Ajv and fast-json-stringify for its defaults (about 200 ms of CPU at
 * start); Fastify types these factories for Ajv, hence the cast.
 */
export const ZOD_COMPILERS_ONLY = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

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
