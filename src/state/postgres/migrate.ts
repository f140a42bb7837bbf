// Schema migrations, run at start by node-pg-migrate. Several replicas starting at once is safe:
// each waits for node-pg-migrate's advisory lock, then finds the migrations already applied.
// The lock is session-level, so this must run over a direct connection, not PgBouncer's
// transaction pooling (DATABASE_URL names the server's own port).
import { readdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MigrationBuilder } from 'node-pg-migrate';
import { importExternal } from '../../external-import.js';
import type pg from 'pg';

export const MIGRATIONS_TABLE = 'relay_migrations';
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Compiled (dist) and source (tsx) runs see the same migrations under different extensions.
const MIGRATION_FILE = /^\d{4}_[a-z0-9-]+\.(ts|js)$/;

interface MigrationModule {
  up: (pgm: MigrationBuilder) => void | Promise<void>;
}

/** The migration's id is its name without extension, so src and dist record the same rows. */
async function loadMigrationUnits(filePaths: string[]) {
  const units = [];
  for (const filePath of filePaths.filter((p) => MIGRATION_FILE.test(basename(p))).sort()) {
    const module = await importExternal<MigrationModule>(pathToFileURL(filePath).href);
    units.push({
      id: basename(filePath, extname(filePath)),
      filePaths: [filePath],
      actions: { up: module.up, down: false as const },
    });
  }
  return units;
}

/** Applies every pending migration; returns the names it applied (none when already current). */
export async function migrate(client: pg.ClientBase): Promise<string[]> {
  // Fail early with a clear message if the folder went missing from a build.
  await readdir(MIGRATIONS_DIR);
  const { runner } = await importExternal<typeof import('node-pg-migrate')>('node-pg-migrate');
  const applied = await runner({
    dbClient: client,
    dir: MIGRATIONS_DIR,
    // Only our numbered modules: skip source maps, declaration files and anything else in the folder.
    ignorePattern: '(?!\\d{4}_[a-z0-9-]+\\.(ts|js)$).*',
    migrationsTable: MIGRATIONS_TABLE,
    direction: 'up',
    advisoryLockMode: 'wait',
    singleTransaction: true,
    checkOrder: true,
    migrationLoaderStrategies: [{ extensions: ['.ts', '.js'], loader: loadMigrationUnits }],
    log: () => {},
  });
  return applied.map((m) => m.name);
}
