// How InstallPackage uses what upstream's install answer carries: the Operation-Location it gives is
// polled as given (its api-version kept), one on another host is refused with a log line, and the
// x-ms-correlation-id of a failed install POST reaches the caller.
import { captureLogs } from '../helpers/capture-logs.js';
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';
import { followLikeEngine } from './packages-engine.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const install = (name: string) => `/v1/environments/${ENV}/packages/${name}/install`;

type LogLine = { event?: string; [k: string]: unknown };
const logs = captureLogs({ level: 'info' });
const { logger } = logs;

t.test('install answers', async (t) => {
  const stack = await startStack({ logger });
  t.teardown(() => stack.close());
  t.beforeEach(() => stack.sim.control.reset());
  const statusCalls = () => stack.sim.control.calls({ route: 'ppapi.operation' });

  t.test("upstream's Operation-Location is polled as given, with its api-version", async (t) => {
    const first = await stack.request('POST', install('msdyn_ContosoSurveysAnchor'));
    t.equal(first.status, 202);
    const run = await followLikeEngine(first);
    t.equal(run.final.status, 200);
    t.equal(run.final.body.status, 'Succeeded');
    const polled = statusCalls();
    t.ok(polled.length > 0, 'the status was read');
    for (const call of polled) {
      t.match(call.url, /[?&]api-version=1(&|$)/, `api-version of Operation-Location: ${call.url}`);
      t.notMatch(call.url, /api-version=2024-10-01/, 'not the built status URL');
    }
  });

  t.test('the older answer style (Operation-Location and an InstancePackage body) is followed the same way', async (t) => {
    stack.sim.control.setOption('installResponse', 'operation-location-with-body');
    const first = await stack.request('POST', install('ContosoExpenseApprovals'));
    t.equal(first.status, 202);
    const run = await followLikeEngine(first);
    t.match(run.final.body, { status: 'Succeeded', packageVersion: '2.0.0.45' });
    for (const call of statusCalls()) t.match(call.url, /[?&]api-version=1(&|$)/);
  });

  t.test('an Operation-Location on another host is refused with a log line; the built URL is polled', async (t) => {
    stack.sim.control.setOption('operationLocationOrigin', 'https://elsewhere.example');
    const first = await stack.request('POST', install('msdyn_FieldInspectionsAnchor'));
    t.equal(first.status, 202);
    const refused = logs.lines<LogLine>().find((l) => l.event === 'install.operationUrlRefused');
    t.match(refused, { host: 'https://elsewhere.example', packageUniqueName: 'msdyn_FieldInspectionsAnchor', operationId: first.body.operationId });
    t.match(String(refused?.msg), /PPAPI_BASE_URL/);
    const run = await followLikeEngine(first);
    t.equal(run.final.body.status, 'Succeeded');
    const polled = statusCalls();
    t.ok(polled.length > 0);
    for (const call of polled) t.match(call.url, /api-version=2024-10-01/, 'the status URL the relay builds');
  });

  t.test("a failed install POST passes upstream's correlation id on", async (t) => {
    const upstreamId = '3b9c6a1e-7f20-4d8e-b5a4-1c2d3e4f5a6b';
    stack.sim.control.addFault({ route: 'ppapi.install', kind: 'status', status: 503, envelope: 'ppapi', times: 1, headers: { 'x-ms-correlation-id': upstreamId } });
    const res = await stack.request('POST', install('ContosoExpenseApprovals'));
    t.equal(res.status, 503, JSON.stringify(res.body));
    t.equal(res.body.error.code, 'InstallNotStarted');
    t.equal(res.body.error.details?.upstreamCorrelationId, upstreamId, 'in details');
    t.match(res.body.error.message, upstreamId, 'and in the message');
    t.equal(stack.sim.control.calls({ route: 'ppapi.install' }).length, 1, 'never POSTed twice');
  });

  t.test("a failed read passes upstream's correlation id on the same way", async (t) => {
    const upstreamId = '5d4c3b2a-1908-4f7e-a6d5-c4b3a2918070';
    stack.sim.control.addFault({ route: 'ppapi.listPackages', kind: 'status', status: 400, envelope: 'ppapi', code: 'InvalidParameter', headers: { 'x-ms-correlation-id': upstreamId } });
    const res = await stack.request('GET', `/v1/environments/${ENV}/packages`);
    t.equal(res.status, 400, JSON.stringify(res.body));
    t.equal(res.body.error.details?.upstreamCorrelationId, upstreamId);
  });
});
