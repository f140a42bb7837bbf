// An install that outlives INSTALL_DEADLINE_MINUTES: the wait URL answers 422 InstallWaitTimedOut and
// relay_installs_total counts it once, as timed_out — not as failed, and not again on later polls
// or when upstream ends it afterwards.
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';
import { getAbsolute } from './packages-engine.js';
import { JumpClock } from '../helpers/fast-clock.js';

const ENV = DEMO_ENVIRONMENTS.sales;

t.test('a timed-out install is counted once as timed_out', async (t) => {
  const clock = new JumpClock();
  const stack = await startStack({ speed: 50, clock, env: { INSTALL_DEADLINE_MINUTES: '1' } });
  t.teardown(() => stack.close());
  stack.sim.control.setSpeed(1e-9); // upstream keeps it running
  const started = await stack.request('POST', `/v1/environments/${ENV}/packages/msdyn_ContosoSurveysAnchor/install`);
  t.equal(started.status, 202);
  const outcome = async (name: string) => {
    const text = String((await stack.request('GET', '/metrics')).body);
    return Number(new RegExp(`^relay_installs_total\\{outcome="${name}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  t.equal((await getAbsolute(started.headers.location!)).status, 202, 'running within the deadline');
  t.equal(await outcome('timed_out'), 0);

  clock.skewMs += 61_000;
  const late = await getAbsolute(started.headers.location!);
  t.equal(late.status, 422, JSON.stringify(late.body));
  t.equal(late.body.error.code, 'InstallWaitTimedOut');
  t.equal(await outcome('timed_out'), 1, 'counted');
  t.equal((await getAbsolute(`${started.headers.location}&waitSeconds=5`)).status, 422, 'a held poll after the deadline answers at once');
  t.equal((await getAbsolute(started.headers.location!)).status, 422);
  t.equal(await outcome('timed_out'), 1, 'counted once, however often it is polled');

  // Upstream ends it after all: still one outcome for this install.
  stack.sim.control.advanceClock(60_000);
  clock.skewMs += 30_000;
  const after = await stack.request('GET', `/v1/environments/${ENV}/operations/${started.body.operationId}?package=msdyn_ContosoSurveysAnchor`);
  t.equal(after.body.status, 'Succeeded', 'upstream ended it later');
  t.equal(await outcome('timed_out'), 1);
  t.equal(await outcome('succeeded'), 0, 'not counted a second time as succeeded');
});
