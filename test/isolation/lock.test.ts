import t from 'tap';
import { createInProcessTenantLock } from '../../src/state/tenant-lock.js';

const tick = () => new Promise((r) => setImmediate(r));

t.test('one holder per key, waiters in arrival order, other keys free', async (t) => {
  const lock = createInProcessTenantLock();
  let inside = 0;
  let maxInside = 0;
  const order: number[] = [];
  let otherKeyRan = false;
  const work = (n: number) =>
    lock.withLock('tenant-a', async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await tick();
      order.push(n);
      inside--;
      return n;
    });
  const all = Promise.all(Array.from({ length: 20 }, (_, i) => work(i)));
  await lock.withLock('tenant-b', async () => {
    otherKeyRan = true;
  });
  t.ok(otherKeyRan, 'another tenant is not blocked');
  t.same(
    await all,
    Array.from({ length: 20 }, (_, i) => i),
  );
  t.equal(maxInside, 1, 'never two holders at once');
  t.same(
    order,
    Array.from({ length: 20 }, (_, i) => i),
    'FIFO',
  );
});

t.test('a failing holder releases the lock', async (t) => {
  const lock = createInProcessTenantLock();
  await t.rejects(
    lock.withLock('k', async () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  t.equal(await lock.withLock('k', async () => 'next'), 'next');
});

t.test('a waiter that queues too long gets a 503 and the queue keeps its order', async (t) => {
  const lock = createInProcessTenantLock({ maxWaitMs: 20 });
  let releaseFirst!: () => void;
  const first = lock.withLock('k', () => new Promise<string>((r) => (releaseFirst = () => r('first'))));
  await tick();
  await t.rejects(
    lock.withLock('k', async () => 'never'),
    { statusCode: 503, code: 'PolicyBusy' },
  );
  let thirdRan = false;
  const third = lock.withLock('k', async () => {
    thirdRan = true;
    return 'third';
  });
  await tick();
  t.notOk(thirdRan, 'the third waits for the holder even though the second gave up');
  releaseFirst();
  t.equal(await first, 'first');
  t.equal(await third, 'third');
});
