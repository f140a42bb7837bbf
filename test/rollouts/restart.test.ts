// A relay restart mid-rollout: the new process reads the rollout record beside the audit file,
// follows the install that was running (no second POST) and finishes the rest.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { waitFor } from '../helpers/wait-for.js';
import { acceptedPosts, FAST_ROLLOUTS, FLEET_PACKAGE, fleetEnvironmentId, startFleet } from './fleet.js';

t.test('restart mid-rollout resumes from the record', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stack = await startFleet(8, { speed: 5, env: { AUDIT_STORE: `file:${join(dir, 'audit.jsonl')}` } });
  t.teardown(() => stack.close());
  const envs = [1, 4, 8].map(fleetEnvironmentId);
  const res = await stack.request('POST', '/v1/rollouts', { body: { packageUniqueName: FLEET_PACKAGE, environmentIds: envs, maxConcurrent: 1, reason: 'restart test' } });
  const id = res.body.rolloutId;
  await waitFor(async () => (await stack.request('GET', `/v1/rollouts/${id}`)).body.environments[0].operationId !== null, 'the first install to start');
  await stack.app.close();

  const again = await buildApp({ config: stack.config, upstream: stack.upstream, rollouts: FAST_ROLLOUTS });
  t.teardown(() => again.close());
  await again.ready();
  const get = async () => (await again.inject({ method: 'GET', url: `/v1/rollouts/${id}`, headers: { 'x-api-key': stack.apiKey } })).json();
  let r = await get();
  await waitFor(async () => {
    r = await get();
    return r.status !== 'Running';
  }, 'the resumed rollout to end', { timeoutMs: 60_000, everyMs: 50 });
  t.equal(r.status, 'Succeeded');
  t.same(r.environments.map((e: { status: string }) => e.status), ['Succeeded', 'Succeeded', 'Succeeded']);
  const posts = acceptedPosts(stack);
  t.same(envs.map((e) => posts.get(e)), [1, 1, 1], 'the running install was followed, not started again');
  // The API answers from memory; the record's last line is appended a moment later.
  type Event = { event: string; caller?: string; reason?: string };
  const lastRecordEvents = (): Event[] => JSON.parse(readFileSync(join(dir, 'rollouts.jsonl'), 'utf8').trim().split('\n').at(-1)!).events;
  const ended = () => {
    try {
      return lastRecordEvents().some((e) => e.event === 'rollout.end');
    } catch {
      return false; // a line read while it is being appended
    }
  };
  await waitFor(ended, 'the ended rollout in its record');
  const events = lastRecordEvents();
  t.same(events.map((e) => e.event), ['rollout.start', 'rollout.resume', 'rollout.end'], 'the record is the audit');
  t.equal(events[0]?.caller, 'apikey:demo');
  t.equal(events[0]?.reason, 'restart test');
});
