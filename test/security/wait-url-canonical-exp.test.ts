// A signed wait URL is accepted only exactly as the relay wrote it. `exp` spelled another way
// (leading zeros) once verified, since the MAC covers the number, not its spelling: it granted
// nothing more, but "any change gets 401" has to hold for every change.
import t from 'tap';
import { createWaitUrlSigner } from '../../src/installs/wait-url.js';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startStack } from '../helpers/stack.js';
import { getAbsolute } from '../installs/packages-engine.js';

t.test('the signer accepts only the canonical exp', async (t) => {
  const signer = createWaitUrlSigner('s'.repeat(32), 3_600_000);
  const sig = signer.sign('/v1/x/wait', Date.now());
  const [exp, mac] = sig.split('.');
  t.equal(signer.verify('/v1/x/wait', sig, Date.now()), 'ok');
  for (const spelling of [`0${exp}`, `00${exp}`, `+${exp}`, ` ${exp}`, `${exp} `, `${exp}.0`, '0']) {
    t.not(signer.verify('/v1/x/wait', `${spelling}.${mac}`, Date.now()), 'ok', JSON.stringify(spelling));
  }
});

t.test('over HTTP: a Location with a zero-padded exp gets 401', async (t) => {
  const stack = await startStack({ speed: 0.01 });
  t.teardown(() => stack.close());
  const started = await stack.request('POST', `/v1/environments/${DEMO_ENVIRONMENTS.sales}/packages/msdyn_ContosoSurveysAnchor/install`);
  t.equal(started.status, 202);
  const location = started.headers.location!;
  t.equal((await getAbsolute(location)).status, 202, 'the URL as given works');
  for (const padded of [location.replace('sig=', 'sig=0'), location.replace('sig=', 'sig=%2B'), location.replace('sig=', 'sig=%20')]) {
    const res = await getAbsolute(padded);
    t.equal(res.status, 401, padded);
    t.equal(res.body?.error?.code, 'InvalidWaitToken');
  }
});
