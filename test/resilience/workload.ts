// A mixed admin workload run while upstream misbehaves, and the invariants it must keep: every
// answer documented and actionable; every rule write answered 200 is in the stored policy exactly
// as asked (added, changed or removed), rules nobody touched are unchanged, nothing else appears;
// the install completes with at most one accepted install POST and never two POSTs for one request.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/index.js';
import type { Stack, StackResponse } from '../helpers/stack.js';
import { boundedRequest, boundedUrl, checkAnswer, storedRules } from './invariants.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const FABRIKAM = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const PACKAGE = 'msdyn_FieldInspectionsAnchor';

/** Retries like the flow engine's default policy on 429/5xx (a bounded number of times). */
async function withEngineRetries(
  send: () => Promise<StackResponse>,
  t: Test,
  what: string,
): Promise<StackResponse> {
  let res = await send();
  for (let i = 0; i < 10 && (res.status === 429 || res.status >= 500); i++) {
    checkAnswer(t, res, what);
    await sleep(50);
    res = await send();
  }
  checkAnswer(t, res, what);
  return res;
}

export async function runMixedWorkload(t: Test, stack: Stack): Promise<void> {
  const seeded = storedRules(stack);
  const added: string[] = Array.from({ length: 8 }, () => randomUUID());

  const reads = [
    ...Array.from({ length: 10 }, () => boundedRequest(stack, 'GET', `/v1/environments/${ENV}/packages`)),
    ...Array.from({ length: 6 }, () => boundedRequest(stack, 'GET', '/v1/tenant-isolation')),
    boundedRequest(stack, 'GET', '/v1/environments'),
  ];
  const adds = added.map((tenant) =>
    boundedRequest(
      stack,
      'PUT',
      `/v1/tenant-isolation/rules/${tenant}`,
      { body: { direction: 'Outbound', reason: 'resilience' } },
      60_000,
    ),
  );
  const removeFabrikam = boundedRequest(
    stack,
    'DELETE',
    `/v1/tenant-isolation/rules/${FABRIKAM}?reason=resilience`,
    {},
    60_000,
  );
  const install = runInstall(t, stack);

  for (const [i, res] of (await Promise.all(reads)).entries()) checkAnswer(t, res, `read #${i}`);
  const addAnswers = await Promise.all(adds);
  const removeAnswer = await removeFabrikam;
  checkAnswer(t, removeAnswer, 'RemoveIsolationRule');
  await install;

  const rules = storedRules(stack);
  t.comment(`rule writes answered ${addAnswers.map((a) => a.status).join(' ')}; remove ${removeAnswer.status}`);
  addAnswers.forEach((res, i) => {
    checkAnswer(t, res, `UpsertIsolationRule #${i}`);
    if (res.status === 200)
      t.equal(rules.get(added[i]!), 'false/true', `rule written with 200 is stored as asked (${added[i]})`);
  });
  if (removeAnswer.status === 200)
    t.notOk(rules.has(FABRIKAM), 'a rule removed with 200 stays removed (not resurrected)');
  for (const [tenant, dir] of seeded) {
    if (tenant !== FABRIKAM) t.equal(rules.get(tenant), dir, `untouched rule ${tenant} kept`);
  }
  for (const tenant of rules.keys()) {
    t.ok(seeded.has(tenant) || added.includes(tenant), `no rule appears that nobody wrote (${tenant})`);
  }
  t.ok(
    addAnswers.some((a) => a.status === 200),
    'at least some writes got through',
  );
}

async function runInstall(t: Test, stack: Stack): Promise<void> {
  const path = `/v1/environments/${ENV}/packages/${PACKAGE}/install?waitSeconds=5`;
  let res = await withEngineRetries(() => boundedRequest(stack, 'POST', path), t, 'InstallPackage');
  for (let polls = 0; res.status === 202 && polls < 60; polls++) {
    const location = res.headers.location;
    if (!location) {
      t.fail('202 without Location');
      break;
    }
    res = await withEngineRetries(() => boundedUrl(location, 'GET', {}), t, 'wait URL');
  }
  t.equal(
    res.status,
    200,
    `the install is followed to its end (${res.status} ${JSON.stringify(res.body?.error ?? '')})`,
  );
  t.equal(res.body?.status, 'Succeeded');

  const posts = stack.sim.control.calls({ route: 'ppapi.install' });
  const accepted = posts.filter((c) => c.status >= 200 && c.status < 300);
  t.ok(accepted.length <= 1, `at most one install POST accepted upstream (${accepted.length})`);
  const perRequest = new Map<string, number>();
  for (const c of posts)
    perRequest.set(c.clientRequestId ?? '?', (perRequest.get(c.clientRequestId ?? '?') ?? 0) + 1);
  for (const [id, n] of perRequest) t.equal(n, 1, `one install request, one POST (correlation ${id})`);
  t.equal(stack.sim.control.packageState(ENV, PACKAGE), 'Installed');
}
