// Graceful shutdown contract: app.shuttingDown fires when close begins, held requests answer 202 at
// once, requests in flight finish before connections drop, and the signal handler exits in bounds.
import t from 'tap';
import { request } from 'undici';
import type { RelayApp } from '../../src/app.js';
import { installGracefulShutdown } from '../../src/http/shutdown.js';
import { buildProbeApp } from '../http/support/probe-app.js';

const holdingRoutes = (app: RelayApp) => {
  // Stands in for the install long poll: hold until the operation ends or the relay shuts down.
  app.get('/v1/probe/hold', { config: { permission: 'packages.read' } }, async (_request, reply) => {
    await new Promise<void>((resolve) => app.shuttingDown.addEventListener('abort', () => resolve(), { once: true }));
    return reply.status(202).header('location', '/v1/probe/hold').header('retry-after', '5').send({ status: 'Running' });
  });
  app.get('/v1/probe/slow', { config: { permission: 'packages.read' } }, async () => {
    await new Promise((r) => setTimeout(r, 300));
    return { finished: true };
  });
};

t.test('closing answers every held request with 202 and lets in-flight work finish', async (t) => {
  let arrived = 0;
  const app = await buildProbeApp({ AUTH_MODE: 'none' }, undefined, (a) => {
    a.addHook('onRequest', async () => {
      arrived++;
    });
    holdingRoutes(a);
  });
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  const held = Array.from({ length: 50 }, () => request(`${origin}/v1/probe/hold`));
  const slow = request(`${origin}/v1/probe/slow`);
  // Close only once every request is in (on a busy machine connecting can take a while).
  while (arrived < 51) await new Promise((r) => setTimeout(r, 5));
  t.equal(app.shuttingDown.aborted, false);
  const closing = app.close();
  const answers = await Promise.all(held);
  t.equal(app.shuttingDown.aborted, true);
  t.same(
    answers.map((a) => a.statusCode),
    Array(50).fill(202),
  );
  t.equal(answers[0]!.headers.location, '/v1/probe/hold');
  await Promise.all(answers.map((a) => a.body.dump()));
  const slowAnswer = await slow;
  t.equal(slowAnswer.statusCode, 200, 'the request in flight was not cut off');
  t.same(await slowAnswer.body.json(), { finished: true });
  await closing;
});

t.test('the signal handler closes the app and exits 0; a hung close exits 1 after the timeout', async (t) => {
  // A signal handler does not keep the event loop alive; a real relay has its listening socket.
  const keepAlive = setInterval(() => {}, 1_000);
  t.teardown(() => clearInterval(keepAlive));
  const app = await buildProbeApp({ AUTH_MODE: 'none' });
  const exited = new Promise<number>((resolve) => {
    const handle = installGracefulShutdown(app, { timeoutMs: 5_000, signals: ['SIGUSR2'], exit: resolve });
    t.teardown(handle.dispose);
  });
  process.kill(process.pid, 'SIGUSR2');
  t.equal(await exited, 0);

  const stuck = await buildProbeApp({ AUTH_MODE: 'none' }, undefined, (a) => {
    a.addHook('onClose', () => new Promise(() => {})); // never finishes
  });
  const code = await new Promise<number>((resolve) => {
    const handle = installGracefulShutdown(stuck, { timeoutMs: 200, signals: ['SIGUSR2'], exit: resolve });
    t.teardown(handle.dispose);
    handle.shutdown();
  });
  t.equal(code, 1);
});
