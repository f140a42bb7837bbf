// The HTTP control API under /_simulator: a test tool, so no auth. Every endpoint maps onto SimulatorControl.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FaultRegistry } from './faults.js';
import { defaultBehaviour } from './state.js';
import type {
  MintTokenOptions,
  RouteName,
  SimulatorBehaviour,
  SimulatorControl,
  SimulatorSeed,
} from './types.js';

const BEHAVIOUR_KEYS = Object.keys(
  defaultBehaviour({ relayApp: { clientId: '' } } as SimulatorSeed),
) as Array<keyof SimulatorBehaviour>;

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { code: 'BadRequest', message } });
}

export function registerControlApi(
  app: FastifyInstance,
  control: SimulatorControl,
  extras: { faults: FaultRegistry; behaviour: () => SimulatorBehaviour; speed: () => number },
) {
  app.get('/_simulator', async () => ({
    endpoints: [
      'GET /_simulator/faults',
      'POST /_simulator/faults',
      'DELETE /_simulator/faults',
      'DELETE /_simulator/faults/:id',
      'GET /_simulator/calls?method=&route=',
      'POST /_simulator/reset',
      'POST /_simulator/tokens',
      'GET /_simulator/options',
      'PUT /_simulator/options',
      'PUT /_simulator/speed',
      'POST /_simulator/clock/advance',
      'GET /_simulator/policies/:tenantId',
      'PUT /_simulator/policies/:tenantId',
      'DELETE /_simulator/policies/:tenantId',
      'GET /_simulator/environments/:env/packages/:uniqueName',
    ],
  }));

  app.get('/_simulator/faults', async () => ({ value: extras.faults.list() }));
  app.post('/_simulator/faults', async (request, reply) => {
    try {
      return reply.code(201).send({ id: control.addFault(request.body as never) });
    } catch (err) {
      return badRequest(reply, (err as Error).message);
    }
  });
  app.delete('/_simulator/faults', async (_request, reply) => {
    control.clearFaults();
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: string } }>('/_simulator/faults/:id', async (request, reply) => {
    const known = extras.faults.list().some((f) => f.id === request.params.id);
    control.removeFault(request.params.id);
    return reply.code(known ? 204 : 404).send();
  });

  app.get<{ Querystring: { method?: string; route?: string } }>('/_simulator/calls', async (request) => ({
    value: control.calls({
      method: request.query.method,
      route: request.query.route as RouteName | undefined,
    }),
  }));

  app.post('/_simulator/reset', async (_request, reply) => {
    control.reset();
    return reply.code(204).send();
  });

  app.post('/_simulator/tokens', async (request, reply) => {
    const body = request.body as MintTokenOptions | undefined;
    if (!body || typeof body.audience !== 'string')
      return badRequest(reply, 'Send {"audience": "..."} and optional claims.');
    return { access_token: await control.mintToken(body), token_type: 'Bearer' };
  });

  app.get('/_simulator/options', async () => ({ ...extras.behaviour(), speed: extras.speed() }));
  app.put('/_simulator/options', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(body)) {
      if (k !== 'speed' && !(BEHAVIOUR_KEYS as string[]).includes(k)) {
        return badRequest(reply, `Unknown option '${k}'; known: ${[...BEHAVIOUR_KEYS, 'speed'].join(', ')}.`);
      }
    }
    try {
      for (const [k, v] of Object.entries(body)) {
        if (k === 'speed') control.setSpeed(Number(v));
        else control.setOption(k as keyof SimulatorBehaviour, v as never);
      }
    } catch (err) {
      return badRequest(reply, (err as Error).message);
    }
    return { ...extras.behaviour(), speed: extras.speed() };
  });
  app.put('/_simulator/speed', async (request, reply) => {
    const m = Number((request.body as { multiplier?: unknown } | undefined)?.multiplier);
    if (!(m > 0)) return badRequest(reply, 'Send {"multiplier": <positive number>}.');
    control.setSpeed(m);
    return { speed: m };
  });

  app.post('/_simulator/clock/advance', async (request, reply) => {
    const ms = Number((request.body as { ms?: unknown } | undefined)?.ms);
    if (!(ms >= 0)) return badRequest(reply, 'Send {"ms": <milliseconds to move simulated time forward>}.');
    control.advanceClock(ms);
    return { advancedMs: ms };
  });

  app.get<{ Params: { tenantId: string } }>('/_simulator/policies/:tenantId', async (request) => ({
    policy: control.getPolicy(request.params.tenantId) ?? null,
    revision: control.policyRevision(request.params.tenantId),
  }));
  app.put<{ Params: { tenantId: string } }>('/_simulator/policies/:tenantId', async (request) => {
    control.setPolicy(request.params.tenantId, request.body);
    return { revision: control.policyRevision(request.params.tenantId) };
  });
  app.delete<{ Params: { tenantId: string } }>('/_simulator/policies/:tenantId', async (request, reply) => {
    control.setPolicy(request.params.tenantId, undefined);
    return reply.code(204).send();
  });

  app.get<{ Params: { env: string; uniqueName: string } }>(
    '/_simulator/environments/:env/packages/:uniqueName',
    async (request, reply) => {
      const state = control.packageState(request.params.env, request.params.uniqueName);
      if (state === undefined)
        return reply.code(404).send({ error: { code: 'NotFound', message: 'Not offered there.' } });
      return { state };
    },
  );
}
