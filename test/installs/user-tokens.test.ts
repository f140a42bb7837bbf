// The user tokens the shared poller borrows in on-behalf-of mode: newest attached request first,
// then the remembered starter's token, each only until its own expiry.
import t from 'tap';
import { OperationUserTokens, tokenExpiresAt } from '../../src/installs/user-tokens.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A JWT-shaped token (the auth layer verified the real ones; the store only reads exp). */
const token = (name: string, expSeconds: number) => `${b64({ alg: 'RS256' })}.${b64({ upn: name, exp: expSeconds })}.sig`;

t.test('newest attached live token first, then the remembered one, never an expired one', async (t) => {
  let now = 1_000_000_000;
  const tokens = new OperationUserTokens(() => now);
  const starter = token('starter', now / 1000 + 600);
  const a = token('a', now / 1000 + 300);
  const b = token('b', now / 1000 + 60);
  t.equal(tokens.pick('op'), undefined, 'nothing known');
  tokens.remember('op', starter);
  t.equal(tokens.pick('op'), starter, 'the starter’s token when nobody waits');
  t.equal(tokens.pick('other-op'), undefined, 'per operation');
  const detachA = tokens.attach('op', a);
  const detachB = tokens.attach('op', b);
  t.equal(tokens.pick('op'), b, 'the most recently attached waiter');
  detachB();
  t.equal(tokens.pick('op'), a, 'the next waiter once b left');
  const detachB2 = tokens.attach('op', b);
  now += 120_000;
  t.equal(tokens.pick('op'), a, 'an expired waiter token is skipped');
  detachA();
  detachB2();
  t.equal(tokens.pick('op'), starter, 'back to the starter');
  now += 500_000;
  t.equal(tokens.pick('op'), undefined, 'the starter’s token is not used past its exp');
  tokens.remember('op', token('late', now / 1000 - 1));
  t.equal(tokens.pick('op'), undefined, 'an already expired token is not remembered');
  const fresh = token('fresh', now / 1000 + 900);
  tokens.remember('op', fresh);
  t.equal(tokens.pick('op'), fresh, 'a later caller’s live token takes over');
  tokens.remember('op', token('shorter', now / 1000 + 100));
  t.equal(tokens.pick('op'), fresh, 'a token that dies sooner does not replace a longer-lived one');
});

t.test('expired entries are swept; a token without exp is never kept', async (t) => {
  let now = 1_000_000_000;
  const tokens = new OperationUserTokens(() => now);
  for (let i = 0; i < 10; i++) tokens.remember(`op-${i}`, token(`u${i}`, now / 1000 + 60));
  t.equal(tokens.size, 10);
  now += 120_000;
  tokens.remember('new', token('n', now / 1000 + 60));
  t.equal(tokens.size, 1, 'the expired ones are gone');
  t.equal(tokenExpiresAt('not a jwt'), undefined);
  tokens.remember('no-exp', `${b64({ alg: 'RS256' })}.${b64({ upn: 'x' })}.sig`);
  t.equal(tokens.pick('no-exp'), undefined);
  const detach = tokens.attach('garbage', 'garbage');
  detach();
  t.equal(tokens.pick('garbage'), undefined);
});
