import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import t from 'tap';
import { createKeyCache } from '../../src/simulator/key-cache.js';
import { stillUsable } from '../../src/simulator/tls.js';

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const parent = mkdtempSync(join(tmpdir(), 'relay-key-cache-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  return join(parent, 'keys');
}

t.test('a stored value is read back; the directory is 0700 and the file 0600', async (t) => {
  const dir = tempDir(t);
  const cache = createKeyCache(dir);
  t.equal(cache.read('pair', () => true), undefined, 'nothing before the first write');
  cache.write('pair', { key: 'k', cert: 'c' });
  t.same(cache.read('pair', () => true), { key: 'k', cert: 'c' });
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal(statSync(join(dir, 'pair.json')).mode & 0o777, 0o600);
  t.same(readdirSync(dir), ['pair.json'], 'no temporary files left behind');
  t.equal(cache.read('pair', () => false), undefined, 'a value the caller finds unusable is not returned');
});

t.test('a file others can read, or a directory others can enter, is not trusted', async (t) => {
  const dir = tempDir(t);
  const cache = createKeyCache(dir);
  cache.write('pair', { key: 'k', cert: 'c' });
  chmodSync(join(dir, 'pair.json'), 0o644);
  t.equal(cache.read('pair', () => true), undefined, 'file readable by others');
  chmodSync(join(dir, 'pair.json'), 0o600);
  chmodSync(dir, 0o755);
  t.equal(cache.read('pair', () => true), undefined, 'directory open to others');
  cache.write('other', { key: 'k' });
  t.notOk(readdirSync(dir).includes('other.json'), 'nor written into');
});

t.test('a certificate is reused only while valid for another week and only with its own key', async (t) => {
  const days = (n: number) => new Date(Date.now() + n * 86_400_000);
  const make = async (notAfterDate: Date) => {
    const pems = await generate([{ name: 'commonName', value: 'cache test' }], { keySize: 2048, notBeforeDate: days(-1), notAfterDate });
    return { key: pems.private, cert: pems.cert };
  };
  const good = await make(days(30));
  t.ok(stillUsable(good));
  t.notOk(stillUsable(await make(days(3))), 'expires within a week');
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  t.notOk(stillUsable({ key: otherKey, cert: good.cert }), 'a key that is not the certificate’s');
  t.notOk(stillUsable({ key: good.key, cert: 'not a certificate' }));
});
