import t from 'tap';
import { createWaitUrlSigner } from '../../src/installs/wait-url.js';
import { statusPathAndQuery, unsignedRequestTarget, WaitUrls, waitPathAndQuery } from '../../src/installs/wait-url.js';

const params = { environmentId: 'Default-7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f', operationId: '0c9a7b2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c', packageUniqueName: 'msdyn_X', packageVersion: '1.2.3.4' };

t.test('the wait URL carries everything a replica needs', async (t) => {
  t.equal(
    waitPathAndQuery({ ...params, failOnError: false }),
    `/v1/environments/${params.environmentId}/operations/${params.operationId}/wait?package=msdyn_X&version=1.2.3.4&failOnError=false`,
  );
  t.equal(statusPathAndQuery(params), `/v1/environments/${params.environmentId}/operations/${params.operationId}?package=msdyn_X`);
});

t.test('the signature covers path and query except sig and waitSeconds', async (t) => {
  t.same(unsignedRequestTarget('/a/wait?package=p&sig=1.abc&waitSeconds=5'), { target: '/a/wait?package=p', sig: '1.abc' });
  t.same(unsignedRequestTarget('/a/wait'), { target: '/a/wait', sig: undefined });
  let now = 1_000_000;
  const urls = new WaitUrls(createWaitUrlSigner('x'.repeat(32), 60_000), () => now);
  const signed = urls.signedUrl('https://relay.contoso.com', params);
  const path = signed.replace('https://relay.contoso.com', '');
  const asWaitToken = { kind: 'waitToken' } as const;
  const withKey = { kind: 'apikey' } as const;
  t.doesNotThrow(() => urls.verify(path, asWaitToken));
  t.doesNotThrow(() => urls.verify(`${path}&waitSeconds=30`, asWaitToken));
  t.throws(() => urls.verify(path.replace('msdyn_X', 'msdyn_Y'), asWaitToken), { statusCode: 401, code: 'InvalidWaitToken' });
  t.throws(() => urls.verify(path.replace('msdyn_X', 'msdyn_Y'), withKey), { statusCode: 401, code: 'InvalidWaitToken' }, 'a wrong signature fails even with credentials');
  // two signatures; an encoded sig name (not a signature); no signature where one is required
  t.throws(() => urls.verify(`${path}&sig=${path.split('sig=')[1]}`, asWaitToken), { statusCode: 401, code: 'InvalidWaitToken' });
  t.throws(() => urls.verify(path.replace('&sig=', '&%73ig='), asWaitToken), { statusCode: 401, code: 'InvalidWaitToken' });
  t.doesNotThrow(() => urls.verify(path.split('&sig=')[0]!, withKey), 'no signature with credentials');
  t.doesNotThrow(() => urls.verify(path.split('&sig=')[0]!, { kind: 'user' }), 'no signature with a user token');
  now += 120_000;
  t.throws(() => urls.verify(path, asWaitToken), { statusCode: 401, message: /expired/ });
});

t.test('the absence of a signature is never trusted: a waitToken or unknown caller needs one', async (t) => {
  const urls = new WaitUrls(createWaitUrlSigner('x'.repeat(32), 60_000), () => 1_000_000);
  const unsignedPath = urls.signedUrl('', params).split('&sig=')[0]!;
  for (const [what, url] of [
    ['no query at all', unsignedPath.split('?')[0]!],
    ['a query without sig', unsignedPath],
    ['only waitSeconds', `${unsignedPath}&waitSeconds=30`],
    ['an encoded sig name', `${unsignedPath}&%73ig=1.abc`],
    ['an empty sig', `${unsignedPath}&sig=`],
  ] as const) {
    t.throws(() => urls.verify(url, { kind: 'waitToken' }), { statusCode: 401, code: 'InvalidWaitToken' }, `waitToken caller, ${what}`);
    t.throws(() => urls.verify(url, undefined), { statusCode: 401, code: 'InvalidWaitToken' }, `no caller, ${what}`);
  }
  t.doesNotThrow(() => urls.verify(unsignedPath, { kind: 'anonymous' }), 'AUTH_MODE=none (anonymous with every permission) needs no signature');
});
