import t from 'tap';
import { createWaitUrlSigner } from '../../src/http/wait-url-token.js';
import { statusPathAndQuery, unsignedRequestTarget, WaitUrls, waitPathAndQuery } from '../../src/services/install-wait-url.js';

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
  t.doesNotThrow(() => urls.verify(path));
  t.doesNotThrow(() => urls.verify(`${path}&waitSeconds=30`));
  t.throws(() => urls.verify(path.replace('msdyn_X', 'msdyn_Y')), { statusCode: 401, code: 'InvalidWaitToken' });
  // two signatures; an encoded sig name (not a signature); no signature where one is required
  t.throws(() => urls.verify(`${path}&sig=${path.split('sig=')[1]}`), { statusCode: 401, code: 'InvalidWaitToken' });
  t.throws(() => urls.verify(path.replace('&sig=', '&%73ig='), true), { statusCode: 401, code: 'InvalidWaitToken' });
  t.throws(() => urls.verify(path.split('&sig=')[0]!, true), { statusCode: 401, code: 'InvalidWaitToken' });
  t.doesNotThrow(() => urls.verify(path.split('&sig=')[0]!), 'no signature with credentials');
  now += 120_000;
  t.throws(() => urls.verify(path), { statusCode: 401, message: /expired/ });
});
