import pg from 'pg';
import t from 'tap';
import { MIGRATIONS_TABLE, migrate } from '../../src/state/postgres/migrate.js';
import { startPostgres } from '../helpers/postgres.js';

const server = await startPostgres();
t.teardown(() => server.stop());

t.test('replicas starting at once: one applies the migrations, the others find them applied', async (t) => {
  const replicas = 5;
  const clients = Array.from({ length: replicas }, () => new pg.Client(server.url));
  t.teardown(() => Promise.all(clients.map((c) => c.end())));
  await Promise.all(clients.map((c) => c.connect()));
  const applied = await Promise.all(clients.map((c) => migrate(c)));
  const appliers = applied.filter((names) => names.length > 0);
  t.equal(appliers.length, 1, 'exactly one replica applied migrations');
  t.same(appliers[0], ['0001_shared-state', '0002_ended-installs', '0003_trigger-cursors', '0004_install-progress', '0005_rollouts']);
  const { rows } = await clients[0]!.query(`select name from ${MIGRATIONS_TABLE} order by id`);
  t.same(
    rows.map((r) => r.name),
    ['0001_shared-state', '0002_ended-installs', '0003_trigger-cursors', '0004_install-progress', '0005_rollouts'],
    'each migration recorded once',
  );
  const tables = await clients[0]!.query(
    "select table_name from information_schema.tables where table_name like 'relay\\_%' order by 1",
  );
  t.same(
    tables.rows.map((r) => r.table_name),
    ['relay_audit', 'relay_install', 'relay_install_ended', 'relay_install_progress', 'relay_lease', 'relay_rollouts', 'relay_trigger_snapshots', MIGRATIONS_TABLE].sort(),
  );
  t.same(await migrate(clients[1]!), [], 'a later start applies nothing');
});
