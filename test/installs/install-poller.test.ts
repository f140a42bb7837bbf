// The shared poller against a scripted upstream and a manual clock: calls do not grow with
// waiters, Retry-After is honoured, no hot loop on errors, it stops when nobody waits, and the
// deadline gives TimedOut.
import t from 'tap';
import type { Clock } from '../../src/clock.js';
import type { InstallProgress, InstallStatus } from '../../src/installs/install-status.js';
import { OperationPoller } from '../../src/installs/install-poller.js';
import { InMemoryInstallRegistry } from '../../src/state/install-registry.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { releaseOnAbort } from '../../src/installs/wait-release.js';

class ManualClock implements Clock {
  t = 1_000_000;
  private timers: Array<{ at: number; resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal }> = [];
  readonly sleeps: number[] = [];
  now() {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal) {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = { at: this.t + ms, resolve, reject, signal };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(signal.reason);
      });
    });
  }
  timer(ms: number, fire: () => void) {
    this.sleeps.push(ms);
    const timer = { at: this.t + ms, resolve: fire, reject: () => {} };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  get pending() {
    return this.timers.length;
  }
  /** Moves time forward in small steps, firing due timers and letting promises settle. */
  async advance(ms: number, step = 50) {
    const end = this.t + ms;
    while (this.t < end) {
      this.t = Math.min(end, this.t + step);
      const due = this.timers.filter((x) => x.at <= this.t);
      this.timers = this.timers.filter((x) => x.at > this.t);
      for (const d of due) d.resolve();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  }
}

const OP = '0c9a7b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c';
const progress = (status: InstallStatus, extra: Partial<InstallProgress> = {}): InstallProgress => ({
  operationId: OP,
  status,
  startedAt: null,
  lastActionAt: status === 'Succeeded' ? new Date().toISOString() : null,
  statusMessage: null,
  error: null,
  ...extra,
});

function scripted(clock: ManualClock, finishAt: number, faults: Array<() => never> = []) {
  const upstream = { calls: 0 };
  const fetch = async () => {
    upstream.calls++;
    const fault = faults.shift();
    if (fault) fault();
    return progress(clock.now() >= finishAt ? 'Succeeded' : 'Running');
  };
  return { upstream, fetch };
}

const policy = { initialMs: 1000, factor: 1.5, maxMs: 10_000, jitter: 0.2, minMs: 250 };

t.test('upstream calls do not grow with the number of waiters', async (t) => {
  const counts: number[] = [];
  for (const waiters of [1, 100, 1000]) {
    const clock = new ManualClock();
    const { upstream, fetch } = scripted(clock, clock.now() + 20_000);
    const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 3_600_000, random: () => 0.5 });
    const answers = Array.from({ length: waiters }, () => poller.wait(60_000));
    await clock.advance(25_000, 100);
    const results = await Promise.all(answers);
    t.ok(results.every((r) => r.status === 'Succeeded'), `${waiters} waiters all got Succeeded`);
    counts.push(upstream.calls);
    t.equal(poller.waiting, 0);
  }
  t.equal(counts[1], counts[0], '100 waiters: same upstream calls as 1');
  t.equal(counts[2], counts[0], '1000 waiters: same upstream calls as 1');
  t.ok(counts[0]! < 15, `a 20 s install takes a handful of polls (${counts[0]})`);
});

t.test("upstream Retry-After is honoured and errors back off instead of hot-looping", async (t) => {
  const clock = new ManualClock();
  const throttled = () => {
    throw new UpstreamError('ppapi', 'http', 'throttled', { status: 429, retryAfterSeconds: 7 });
  };
  const down = () => {
    throw new UpstreamError('ppapi', 'http', 'down', { status: 503 });
  };
  const { upstream, fetch } = scripted(clock, clock.now() + 60_000, [throttled, down, down, down]);
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 3_600_000, random: () => 0.5 });
  const answer = poller.wait(90_000);
  await clock.advance(6_900, 100);
  t.equal(upstream.calls, 1, 'no second call before the 7 s upstream asked for');
  await clock.advance(200, 100);
  t.equal(upstream.calls, 2, 'called again once Retry-After passed');
  await clock.advance(70_000, 200);
  t.equal((await answer).status, 'Succeeded');
  t.ok(clock.sleeps.every((ms) => ms >= 250 || ms === 90_000), 'no wait shorter than the floor');
  t.ok(upstream.calls < 25, `bounded number of calls (${upstream.calls})`);
});

t.test('the poller stops when nobody waits and answers the timed-out waiter with the last progress', async (t) => {
  const clock = new ManualClock();
  const { upstream, fetch } = scripted(clock, clock.now() + 600_000);
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 3_600_000, random: () => 0.5 });
  const answer = poller.wait(5_000);
  await clock.advance(5_100, 100);
  t.equal((await answer).status, 'Running');
  const callsAtStop = upstream.calls;
  await clock.advance(60_000, 1000);
  t.equal(upstream.calls, callsAtStop, 'no polling without waiters');
  t.equal(clock.pending, 0, 'no timers left behind');
});

t.test('a release signal (shutdown) answers held waiters at once', async (t) => {
  const clock = new ManualClock();
  const { fetch } = scripted(clock, clock.now() + 600_000);
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 3_600_000 });
  const release = new AbortController();
  const answers = [poller.wait(60_000, releaseOnAbort(release.signal)), poller.wait(60_000, releaseOnAbort(release.signal))];
  await clock.advance(1_000);
  release.abort();
  const got = await Promise.all(answers);
  t.same(got.map((g) => g.status), ['Running', 'Running']);
  t.equal(poller.waiting, 0);
});

t.test("past the install deadline waits end with waitTimedOut, the status still upstream's", async (t) => {
  const clock = new ManualClock();
  const { fetch } = scripted(clock, clock.now() + 10_000_000);
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 30_000 });
  const answer = poller.wait(100_000);
  await clock.advance(31_000, 500);
  t.match(await answer, { status: 'Running', waitTimedOut: true });
  t.match(await poller.wait(10_000), { status: 'Running', waitTimedOut: true }, 'a late waiter too');
  const snapshot = await poller.snapshot();
  t.equal(snapshot.status, 'Running', 'the snapshot still tells upstream truth');
  t.notOk(snapshot.waitTimedOut, 'and is no wait');
});

t.test('snapshots share one upstream call and reuse a fresh answer', async (t) => {
  const clock = new ManualClock();
  const { upstream, fetch } = scripted(clock, clock.now() + 600_000);
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 3_600_000 });
  await Promise.all(Array.from({ length: 50 }, () => poller.snapshot()));
  t.equal(upstream.calls, 1);
  await poller.snapshot();
  t.equal(upstream.calls, 1, 'fresh answer reused');
  clock.t += 20_000;
  await poller.snapshot();
  t.equal(upstream.calls, 2, 'stale answer refreshed');
});

t.test('the registry runs one start for concurrent callers of the same env+package', async (t) => {
  const reg = new InMemoryInstallRegistry(60_000, () => Date.now());
  let starts = 0;
  // The start stays in flight until every caller has joined: released only after all 50 calls.
  let finishStart!: () => void;
  const startFinished = new Promise<void>((resolve) => (finishStart = resolve));
  const start = async () => {
    starts++;
    await startFinished;
    return 'op-1';
  };
  const joined = Promise.all(Array.from({ length: 50 }, () => reg.startOnce('ENV', 'Pkg', start)));
  finishStart();
  const all = await joined;
  t.equal(starts, 1);
  t.equal(all.filter((a) => a.leader).length, 1);
  t.ok(all.every((a) => a.value === 'op-1'));
  await reg.put({ environmentId: 'env', packageUniqueName: 'pkg', operationId: 'op-1', packageVersion: null, startedAt: new Date().toISOString(), startedBy: 'x' });
  t.equal((await reg.get('ENV', 'PKG'))?.operationId, 'op-1', 'keys ignore case');
  t.equal((await reg.findByOperation('env', 'OP-1'))?.packageUniqueName, 'pkg');
  await reg.complete('env', 'pkg', 'other-op');
  t.ok(await reg.get('env', 'pkg'), 'complete of another operation keeps the record');
  await reg.complete('env', 'pkg', 'op-1');
  t.notOk(await reg.get('env', 'pkg'));
});

t.test('a quick read does not wait on a slow status call when a recent answer exists', async (t) => {
  const clock = new ManualClock();
  let calls = 0;
  let release: (() => void) | undefined;
  const fetch = async () => {
    calls++;
    if (calls === 1) return progress('Running');
    await new Promise<void>((r) => {
      release = r;
    });
    return progress('Succeeded');
  };
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy, deadlineMs: 3_600_000 });
  t.equal((await poller.snapshot()).status, 'Running');
  clock.t += 20_000;
  const quick = poller.snapshot(3_000);
  await clock.advance(3_100, 100);
  t.equal((await quick).status, 'Running', 'answered with the known progress after 3 s');
  release?.();
  await new Promise((r) => setImmediate(r));
  t.equal((await poller.snapshot(3_000)).status, 'Succeeded', 'the slow call finished in the background for the next reader');
  t.equal(calls, 2);
});

t.test('idle and long-ended pollers are dropped; held ones are kept', async (t) => {
  const { OperationPollers } = await import('../../src/installs/poller-pool.js');
  const clock = new ManualClock();
  const pollers = new OperationPollers(clock);
  const make = (finishAt: number) => () => ({ operationId: OP, fetch: scripted(clock, finishAt).fetch, deadlineMs: 3_600_000, policy });
  pollers.get('never-polled', make(0));
  const ended = pollers.get('ended', make(0));
  await ended.snapshot();
  const held = pollers.get('held', make(clock.now() + 10_000_000));
  const answer = held.wait(3_600_000);
  t.equal(pollers.size, 3);
  clock.t += 20 * 60_000;
  pollers.get('new', make(0));
  t.notOk(pollers.peek('never-polled'), 'idle poller dropped');
  t.notOk(pollers.peek('ended'), 'ended poller dropped after it was kept a while');
  t.ok(pollers.peek('held'), 'a poller with waiters is kept');
  t.equal(pollers.waiting, 1);
  clock.t += 3_600_000;
  await clock.advance(1_000);
  t.match(await answer, { status: 'Running', waitTimedOut: true });
});

const heldPolicy = { ...policy, heldMaxMs: 750 };

t.test('while someone holds, polls come at most heldMaxMs apart; calls still do not grow with waiters', async (t) => {
  const counts: number[] = [];
  const lags: number[] = [];
  for (const waiters of [1, 100, 1000]) {
    const clock = new ManualClock();
    const finishAt = clock.now() + 20_000;
    const { upstream, fetch } = scripted(clock, finishAt);
    const poller = new OperationPoller({ operationId: OP, fetch, clock, policy: heldPolicy, deadlineMs: 3_600_000, random: () => 0.5 });
    let answeredAt = 0;
    const answers = Array.from({ length: waiters }, () =>
      poller.wait(60_000).then((p) => {
        answeredAt = clock.now();
        return p;
      }),
    );
    await clock.advance(25_000, 50);
    const results = await Promise.all(answers);
    t.ok(results.every((r) => r.status === 'Succeeded'), `${waiters} waiters all got Succeeded`);
    counts.push(upstream.calls);
    lags.push(answeredAt - finishAt);
  }
  t.equal(counts[1], counts[0], '100 waiters: same upstream calls as 1');
  t.equal(counts[2], counts[0], '1000 waiters: same upstream calls as 1');
  t.ok(lags.every((lag) => lag >= 0 && lag <= 750 + 50), `the last answer follows completion within the held cap (${lags.join(', ')} ms)`);
  t.ok(counts[0]! <= Math.ceil(20_000 / 750) + 2, `about one call per held interval, not more (${counts[0]})`);
});

t.test('the held cap never beats upstream Retry-After, and the backoff grows again when nobody holds', async (t) => {
  const clock = new ManualClock();
  const calledAt: number[] = [];
  const fetch = async () => {
    calledAt.push(clock.now());
    return progress('Running', { upstreamRetryAfter: 5 });
  };
  const poller = new OperationPoller({ operationId: OP, fetch, clock, policy: heldPolicy, deadlineMs: 3_600_000, random: () => 0.5 });
  const held = poller.wait(30_000);
  await clock.advance(30_100, 50);
  t.equal((await held).status, 'Running');
  const gaps = calledAt.slice(1).map((at, i) => at - calledAt[i]!);
  t.ok(gaps.length >= 4 && gaps.every((g) => g >= 5_000), `upstream asked for 5 s and got it (${gaps.join(', ')})`);

  // Nobody holds: snapshots reuse the answer for the grown backoff interval, not the held cap.
  let calls = 0;
  const counting = new OperationPoller({
    operationId: OP,
    fetch: async () => {
      calls++;
      return progress('Running');
    },
    clock,
    policy: heldPolicy,
    deadlineMs: 3_600_000,
    random: () => 0.5,
  });
  for (let i = 0; i < 60; i++) {
    await counting.snapshot();
    clock.t += 500;
  }
  t.ok(calls <= 8, `30 s of snapshots every 0.5 s without a holder: the interval grew (${calls} calls)`);
});
