// The relay's Fastify instance type, in a module of its own so plugins and feature routes can name
// it without importing app.ts (which imports them).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

/** The relay's Fastify instance type: zod schemas on every route. */
export type RelayApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;
