// The floor under the relay's held waits: a bare Fastify server (the relay's Fastify, default
// options, no hooks, no logging) that holds every GET /hold until POST /release, then answers all
// of them with a body the size of the relay's install answer. What it costs per held request, and
// how long releasing them all takes, is what Node's HTTP server and Fastify cost before the relay
// does anything. Run as its own process; prints "held-floor listening on http://127.0.0.1:<port>".
import Fastify from 'fastify';

const ANSWER = {
  operationId: '00000000-0000-4000-8000-000000000000',
  environmentId: '00000000-0000-4000-8000-000000000001',
  packageUniqueName: 'msdyn_ContosoSurveysAnchor',
  packageVersion: '1.0.0.0',
  status: 'Succeeded',
  waitTimedOut: false,
  startedAt: '2026-01-01T00:00:00.000Z',
  lastActionAt: '2026-01-01T00:00:00.000Z',
  statusMessage: null,
  error: null,
};

const app = Fastify();
const held: Array<() => void> = [];
app.get('/hold', (_request, reply) => {
  held.push(() => reply.send(ANSWER));
  return reply;
});
app.get('/held', async () => ({ held: held.length }));
app.post('/release', async () => {
  for (const answer of held.splice(0)) answer();
  return { released: true };
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`held-floor listening on ${address}`);
