import t from 'tap';
import { createEmbeddedNotifier } from '../../src/state/notifier.js';
import { createPostgresNotifier } from '../../src/state/postgres/notifier.js';
import { replicaPool, startPostgres } from '../helpers/postgres.js';

/** Resolves when check() holds, polling; fails after timeoutMs. */
async function until(check: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('embedded notifier delivers to every subscriber in the process', async (t) => {
  const notifier = createEmbeddedNotifier();
  const heard: string[] = [];
  const stop = notifier.subscribe((key, message) => heard.push(`1:${key}:${message}`));
  notifier.subscribe((key) => heard.push(`2:${key}`));
  await notifier.notify('op-1', 'Succeeded');
  await until(() => heard.length === 2, 'both heard');
  t.same(heard.sort(), ['1:op-1:Succeeded', '2:op-1']);
  stop();
  await notifier.notify('op-2');
  await until(() => heard.length === 3, 'the other heard');
  t.equal(heard[2], '2:op-2', 'an unsubscribed listener hears nothing more');
  await notifier.close();
});

t.test('PostgreSQL notifier: every replica hears, and a broken listener reconnects and resyncs', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const replicas = [0, 1].map(() => {
    const pool = replicaPool(t, server.url);
    const notifier = createPostgresNotifier(pool, { listenConfig: { connectionString: server.url } });
    t.teardown(() => notifier.close());
    return notifier;
  });
  await Promise.all(replicas.map((r) => r.ready()));
  const heard: string[][] = [[], []];
  for (const [i, r] of replicas.entries()) r.subscribe((key, message) => heard[i]!.push(`${key}:${message}`));

  await replicas[0]!.notify('env/op-1', 'Succeeded');
  await until(() => heard[0]!.length === 1 && heard[1]!.length === 1, 'both replicas heard');
  t.same(heard, [['env/op-1:Succeeded'], ['env/op-1:Succeeded']], 'the sender hears its own notice too');

  let resyncs = 0;
  replicas[1]!.onResync(() => resyncs++);
  const admin = replicaPool(t, server.url, 1);
  await admin.query(
    "select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen admin_relay_changes' and pid <> pg_backend_pid()",
  );
  await until(() => resyncs === 1 && replicas[1]!.listening, 'the listener reconnected');
  await replicas[0]!.notify('env/op-2', 'Failed');
  await until(() => heard[1]!.includes('env/op-2:Failed'), 'the reconnected replica hears later notices');
  t.pass('reconnected and resynced');
});
