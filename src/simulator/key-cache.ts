// Simulator keys and certificates kept between starts: each RSA key costs a start about 0.3 s, and
// `npm start`, the benchmark and every test process would otherwise make three. It is simulator
// material only (its own CA and token-signing key), stored where only this user can read it: a
// directory of mode 0700 holding files of mode 0600. Anything else found there (another owner, wider
// modes, unreadable, expiring soon) is ignored and replaced; writing is best effort.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_KEY_CACHE_DIR = join(tmpdir(), `admin-relay-simulator-keys-${userInfo().username}`);

export interface KeyCache {
  read<T>(name: string, isUsable: (value: T) => boolean): T | undefined;
  write(name: string, value: unknown): void;
}

function ownedAndPrivate(path: string): boolean {
  const st = statSync(path);
  const ownerOk = process.getuid === undefined || st.uid === process.getuid();
  return ownerOk && (st.mode & 0o077) === 0;
}

export function createKeyCache(dir = DEFAULT_KEY_CACHE_DIR): KeyCache {
  const usableDir = (): boolean => {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return statSync(dir).isDirectory() && ownedAndPrivate(dir);
    } catch {
      return false;
    }
  };
  return {
    read<T>(name: string, isUsable: (value: T) => boolean): T | undefined {
      if (!usableDir()) return undefined;
      const file = join(dir, `${name}.json`);
      try {
        if (!ownedAndPrivate(file)) return undefined;
        const value = JSON.parse(readFileSync(file, 'utf8')) as T;
        return isUsable(value) ? value : undefined;
      } catch {
        return undefined;
      }
    },
    write(name: string, value: unknown): void {
      if (!usableDir()) return;
      const file = join(dir, `${name}.json`);
      // Written aside and renamed: a simulator starting at the same time never reads half a file.
      const aside = `${file}.${randomUUID()}.tmp`;
      try {
        writeFileSync(aside, JSON.stringify(value), { mode: 0o600 });
        renameSync(aside, file);
      } catch {
        try {
          unlinkSync(aside);
        } catch {
          // nothing was written
        }
      }
    },
  };
}
