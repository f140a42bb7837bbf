// The release of a held wait: one listener, called once, cancellable; an AbortSignal as a release.
import t from 'tap';
import { HeldRelease, releaseOnAbort } from '../../src/installs/wait-release.js';

t.test('a held release calls its listener once, and not after cancel', async (t) => {
  const release = new HeldRelease();
  let calls = 0;
  release.onRelease(() => calls++);
  t.equal(release.released, false);
  release.release();
  release.release();
  t.equal(calls, 1, 'once, however often released');
  t.equal(release.released, true);

  const other = new HeldRelease();
  let otherCalls = 0;
  const cancel = other.onRelease(() => otherCalls++);
  cancel();
  other.release();
  t.equal(otherCalls, 0, 'a cancelled listener is not called');
});

t.test('a listener added after release is called at once; a second listener is refused', async (t) => {
  const release = new HeldRelease();
  release.onRelease(() => {});
  t.throws(() => release.onRelease(() => {}), /one wait/);
  release.release();
  let late = 0;
  release.onRelease(() => late++);
  t.equal(late, 1);
});

t.test('an AbortSignal as a release: every listener, once, cancellable', async (t) => {
  const controller = new AbortController();
  const release = releaseOnAbort(controller.signal);
  const seen: string[] = [];
  release.onRelease(() => seen.push('a'));
  const cancelB = release.onRelease(() => seen.push('b'));
  release.onRelease(() => seen.push('c'));
  cancelB();
  t.equal(release.released, false);
  controller.abort();
  controller.abort();
  t.same(seen, ['a', 'c']);
  t.equal(release.released, true);
  release.onRelease(() => seen.push('late'));
  t.same(seen, ['a', 'c', 'late'], 'added after the abort: called at once');
});
