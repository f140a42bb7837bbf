// Pure parsers of the upstream client: error bodies in every documented shape, Retry-After in
// every form, the BAP poll clamp, backoff bounds, operation ids and operation snapshots.
import t from 'tap';
import { operationIdFromUrl, parseOperation } from '../../src/upstream/appmanagement.js';
import { backoffCeilingMs, fullJitterBackoffMs, retryDelayMs } from '../../src/upstream/backoff.js';
import { toEnvironment } from '../../src/upstream/environments.js';
import {
  isUnregisteredManagementApp,
  parseErrorText,
  unregisteredManagementAppMessage,
} from '../../src/upstream/error-body.js';
import { parseRetryAfterSeconds, pollIntervalSeconds } from '../../src/upstream/retry-after.js';
import { tenantIdFromOpenIdConfiguration } from '../../src/upstream/tenant-discovery.js';
import { sameOriginLink, upstreamUrl, urlParts } from '../../src/upstream/urls.js';

t.test('error bodies: every shape in the reference', async (t) => {
  t.same(
    parseErrorText(
      '{"error":{"code":"BadRequest","message":"Invalid tenant ID format","details":[{"code":"ValidationError","message":"The tenant ID must be a valid GUID"}]}}',
    ),
    {
      code: 'BadRequest',
      message: 'Invalid tenant ID format',
      extra: [{ code: 'ValidationError', message: 'The tenant ID must be a valid GUID' }],
    },
    'BAP envelope with details',
  );
  t.same(
    parseErrorText('{"error":{"code":"Forbidden","message":"no","detailUrlType":"NotSpecified"}}'),
    { code: 'Forbidden', message: 'no' },
    'BAP envelope without details',
  );
  t.same(
    parseErrorText('{"code":"UnexpectedError","message":"An unexpected error occurred."}'),
    { code: 'UnexpectedError', message: 'An unexpected error occurred.' },
    'PPAPI flat',
  );
  const hex = parseErrorText(
    '{"errorCode":"0x80040216","errorName":"ApplicationNotVisible","message":"The solution is not visible in the catalog.","source":"Dataverse","statusCode":404,"type":"ApplicationNotVisibleException"}',
  );
  t.equal(hex.code, 'ApplicationNotVisible', 'ErrorDetails: errorName is the code');
  t.equal(hex.message, 'The solution is not visible in the catalog.');
  t.equal((hex.extra as { errorCode: string }).errorCode, '0x80040216', 'hex errorCode kept');
  const numeric = parseErrorText('{"errorCode":-2147188475,"message":"Missing dependency msdyn_Base"}');
  t.equal(numeric.code, '-2147188475', 'numeric errorCode without errorName becomes the code');
  t.same(
    parseErrorText('{"errorDetails":{"errorCode":1,"errorName":"PdsRetrying","message":"PDS retrying"}}').code,
    'PdsRetrying',
    'nested errorDetails',
  );
  const oauth = parseErrorText(
    '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"trace_id":"x"}',
  );
  t.equal(oauth.code, 'invalid_client');
  t.match(oauth.message, /AADSTS7000215/);
  t.same(parseErrorText('{"Message":"An error has occurred."}'), { message: 'An error has occurred.' }, 'ASP.NET Message');
  t.same(parseErrorText(''), {}, 'empty body');
  t.same(parseErrorText(null), {}, 'no body');
  t.same(
    parseErrorText('<html><head><title>503 Service Unavailable</title></head><body><h1>Oops</h1></body></html>'),
    { message: '503 Service Unavailable' },
    'HTML: the title',
  );
  t.same(parseErrorText('<html><body><p>Bad   gateway</p></body></html>'), { message: 'Bad gateway' }, 'HTML: text');
  t.same(parseErrorText('upstream connect error'), { message: 'upstream connect error' }, 'plain text');
  t.same(parseErrorText('{not json'), { message: '{not json' }, 'broken JSON kept as text');
  t.ok(parseErrorText('x'.repeat(5000)).message!.length <= 300, 'long text is cut');
});

t.test('unregistered management app', async (t) => {
  const body = '{"error":{"code":"Forbidden","message":"The service principal with id \'x\' does not have permission to access the path \'/providers/...\' in tenant y."}}';
  const parsed = parseErrorText(body);
  t.ok(isUnregisteredManagementApp(403, parsed, body));
  t.notOk(isUnregisteredManagementApp(401, parsed, body), 'only a 403');
  t.notOk(isUnregisteredManagementApp(403, { message: 'Forbidden' }, '{}'), 'other 403s stay as they are');
  const msg = unregisteredManagementAppMessage('abc', 'https://api.bap.microsoft.com');
  t.match(msg, /pac admin application register --application-id abc/);
  t.match(msg, /PUT https:\/\/api\.bap\.microsoft\.com\/providers\/Microsoft\.BusinessAppPlatform\/adminApplications\/abc\?api-version=2020-10-01/);
  t.match(msg, /admin user/);
});

t.test('Retry-After', async (t) => {
  const now = Date.parse('2026-09-01T10:00:00Z');
  t.equal(parseRetryAfterSeconds('7', now), 7);
  t.equal(parseRetryAfterSeconds('0', now), 0, '"0" means now');
  t.equal(parseRetryAfterSeconds(' 3 ', now), 3);
  t.equal(parseRetryAfterSeconds('Tue, 01 Sep 2026 10:00:30 GMT', now), 30, 'HTTP-date');
  t.equal(parseRetryAfterSeconds('Tue, 01 Sep 2026 09:00:00 GMT', now), 0, 'HTTP-date in the past');
  t.equal(parseRetryAfterSeconds('10s', now), 10, 'Go duration');
  t.equal(parseRetryAfterSeconds('1m30s', now), 90);
  t.equal(parseRetryAfterSeconds('500ms', now), 0.5);
  t.equal(parseRetryAfterSeconds('soon', now), undefined);
  t.equal(parseRetryAfterSeconds('', now), undefined);
  t.equal(parseRetryAfterSeconds(undefined, now), undefined);
  t.equal(parseRetryAfterSeconds('-5', now), undefined);
  t.equal(parseRetryAfterSeconds(['4', '9'], now), 4, 'first of repeated headers');
});

t.test('BAP async poll interval: clamp 2..60, else 5', async (t) => {
  t.equal(pollIntervalSeconds('1'), 2);
  t.equal(pollIntervalSeconds('10'), 10);
  t.equal(pollIntervalSeconds('600'), 60);
  t.equal(pollIntervalSeconds('0'), 5);
  t.equal(pollIntervalSeconds(undefined), 5);
  t.equal(pollIntervalSeconds('soon'), 5);
  t.equal(pollIntervalSeconds('Tue, 01 Sep 2026 10:00:30 GMT'), 5, 'integer seconds only');
});

t.test('backoff: full jitter under a growing, capped ceiling', async (t) => {
  const policy = { baseMs: 100, capMs: 1000 };
  t.same([1, 2, 3, 4, 5, 10].map((n) => backoffCeilingMs(n, policy)), [100, 200, 400, 800, 1000, 1000]);
  t.equal(fullJitterBackoffMs(3, policy, () => 0), 0, 'lower bound 0');
  t.ok(fullJitterBackoffMs(3, policy, () => 0.999999) < 400, 'upper bound below the ceiling');
  for (let i = 0; i < 200; i++) {
    const n = 1 + (i % 8);
    const d = fullJitterBackoffMs(n, policy);
    t.ok(d >= 0 && d <= backoffCeilingMs(n, policy), `retry ${n}: ${d}`);
  }
  t.equal(retryDelayMs(1, 3, policy, () => 0.5), 3000, 'Retry-After wins');
  t.equal(retryDelayMs(2, undefined, policy, () => 0.5), 100, 'else jitter');
  t.equal(backoffCeilingMs(1000, policy), 1000, 'no overflow for large retry counts');
});

t.test('operation ids and snapshots', async (t) => {
  t.equal(
    operationIdFromUrl('https://api.powerplatform.com/appmanagement/environments/e1/operations/0c9a7b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c?api-version=1'),
    '0c9a7b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c',
  );
  t.equal(operationIdFromUrl('/appmanagement/environments/e1/operations/abc'), 'abc', 'relative');
  t.equal(operationIdFromUrl('https://x/other/path'), undefined);
  const failed = parseOperation('op', {
    operationId: 'op',
    status: 'Failed',
    statusMessage: 'Installation failed',
    error: { errorCode: -2147188475, errorName: 'SolutionImportFailed', message: 'Missing dependency' },
  });
  t.equal(failed.status, 'Failed');
  t.equal(failed.error?.errorName, 'SolutionImportFailed');
  t.equal(parseOperation('op', { status: 'Cancelled' }).status, 'Canceled', 'double-L spelling tolerated');
  t.equal(parseOperation('op', { status: 'Succeeded', statusMessage: '' }).error, null, 'no error key');
  t.equal(parseOperation('op', { status: 'SomethingNew' }).status, 'Running', 'unknown status keeps polling');
  t.equal(parseOperation('op', null).status, 'NotStarted');
  t.equal(parseOperation('op', { status: 'Running' }, 4).retryAfterSeconds, 4);
});

t.test('environments and discovery documents', async (t) => {
  t.same(
    toEnvironment({ name: 'e1', location: 'unitedstates', properties: { displayName: 'Prod', linkedEnvironmentMetadata: { instanceUrl: 'https://org.crm.dynamics.com/' } } }),
    { id: 'e1', displayName: 'Prod', location: 'unitedstates', dataverseUrl: 'https://org.crm.dynamics.com/', hasDataverse: true },
  );
  t.equal(toEnvironment({ name: 'e2', properties: { linkedEnvironmentMetadata: { instanceUrl: '' } } })?.hasDataverse, false);
  t.equal(toEnvironment({ name: 'e3', properties: {} })?.hasDataverse, false);
  t.equal(toEnvironment({}), undefined);
  t.equal(
    tenantIdFromOpenIdConfiguration({ issuer: 'https://login.microsoftonline.com/7C3D9F2A-0B1E-4C5D-8E6F-9A0B1C2D3E4F/v2.0' }),
    '7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f',
  );
  t.equal(
    tenantIdFromOpenIdConfiguration({ token_endpoint: 'https://x/2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3/oauth2/v2.0/token' }),
    '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3',
  );
  t.equal(tenantIdFromOpenIdConfiguration({ issuer: 'https://x/{tenantid}/v2.0' }), null);
});

t.test('URLs: encoded segments, same-origin links only', async (t) => {
  t.equal(
    upstreamUrl('https://api.example.com/', ['a', 'b/../c', 'd e'], { 'api-version': '1', x: undefined }),
    'https://api.example.com/a/b%2F..%2Fc/d%20e?api-version=1',
  );
  t.equal(upstreamUrl('https://API.Example.com:443', ['x']), 'https://api.example.com/x', 'the base as URL normalises it');
  for (const dots of ['.', '..']) {
    t.throws(() => upstreamUrl('https://api.example.com/', ['a', dots, 'b']), { statusCode: 400, code: 'InvalidRequest' }, `"${dots}" would change the path`);
  }
  t.equal(upstreamUrl('https://api.example.com/', ['...', '.x']), 'https://api.example.com/.../.x', 'other dots are plain names');
  t.equal(upstreamUrl('https://api.example.com', ['p'], { $top: '5', q: 'a b&c=d' }), 'https://api.example.com/p?%24top=5&q=a%20b%26c%3Dd');
  for (const href of [
    'https://api.example.com/a/b?x=1',
    'https://api.example.com',
    'http://127.0.0.1:4443/p%2Fq?api-version=2022-03-01-preview',
    'https://[::1]:8443/x',
    'https://user:pw@api.example.com/x',
    'https://API.example.com/x#frag',
    'https://api.example.com:443/x',
    'https://api.example.com?x=1',
  ]) {
    const url = new URL(href);
    const parts = urlParts(href);
    t.equal(parts.hostname, url.hostname, `${href}: hostname`);
    t.equal(parts.path, `${url.pathname}${url.search}`, `${href}: path`);
    t.equal(new URL(parts.origin).origin, url.origin, `${href}: origin`);
  }
  t.equal(sameOriginLink('/next?page=2', 'https://api.example.com')?.toString(), 'https://api.example.com/next?page=2');
  t.equal(sameOriginLink('https://api.example.com/p?x=1', 'https://api.example.com')?.toString(), 'https://api.example.com/p?x=1');
  t.equal(sameOriginLink('https://evil.example.com/p', 'https://api.example.com'), undefined);
  t.equal(sameOriginLink('http://api.example.com/p', 'https://api.example.com'), undefined, 'scheme matters');
});
