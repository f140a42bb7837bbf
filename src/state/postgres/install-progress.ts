// The last known install progress per operation in PostgreSQL: one row, overwritten by the poller
// lease holder after each upstream status call. Rows of operations nobody has touched for a week
// are dropped on the way, like ended installs.
import type pg from 'pg';
import type { InstallProgressStore } from '../install-progress.js';
import { unavailableIfConnectionFailed } from './unavailable.js';

const KEPT = '7 days';

export function createPostgresInstallProgressStore(pool: pg.Pool): InstallProgressStore {
  return {
    async publish(key, progress) {
      await pool
        .query(
          `with pruned as (delete from relay_install_progress where updated_at < now() - interval '${KEPT}')
           insert into relay_install_progress (progress_key, progress) values ($1, $2)
           on conflict (progress_key) do update set progress = excluded.progress, updated_at = clock_timestamp()`,
          [key, JSON.stringify(progress)],
        )
        .catch((err) => Promise.reject(unavailableIfConnectionFailed(err)));
    },
    async read(key) {
      const { rows } = await pool
        .query<{ progress: unknown }>('select progress from relay_install_progress where progress_key = $1', [key])
        .catch((err) => Promise.reject(unavailableIfConnectionFailed(err)));
      return rows[0]?.progress;
    },
  };
}
