// Every machine-checkable rule the connector platform sets on the committed package (root
// definition + connector/) and on both folders `npm run connector` builds, plus proof that the
// checker catches each kind of mistake it claims to.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildConnector, parseHost } from '../../scripts/build-connector.js';
import { apiProperties, CONNECTOR_BRAND_COLOR, paconnSettings } from '../../scripts/connector-files.js';
import { drawIcon } from '../../scripts/make-connector-icon.js';
import { checkDefinition, checkIcon, checkPackage, checkProperties } from '../../scripts/connector-check/connector-rules.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8'));
const committedDoc = read('apiDefinition.swagger.json');

t.test('the committed package passes every rule', async (t) => {
  t.same(
    checkPackage({
      definition: join(root, 'apiDefinition.swagger.json'),
      properties: join(root, 'connector/apiProperties.json'),
      settings: join(root, 'connector/settings.json'),
      icon: join(root, 'connector/icon.png'),
      readme: join(root, 'connector/README.md'),
    }),
    [],
  );
});

t.test('committed connector files are what the build code writes', async (t) => {
  t.same(read('connector/apiProperties.json'), apiProperties('entra'));
  t.same(read('connector/settings.json'), paconnSettings('../apiDefinition.swagger.json'));
  const props = read('connector/apiProperties.json').properties;
  t.equal(props.iconBrandColor, CONNECTOR_BRAND_COLOR);
  const token = props.connectionParameters.token;
  t.match(token, {
    type: 'oauthSetting',
    oAuthSettings: { identityProvider: 'aad', redirectMode: 'GlobalPerConnector' },
  });
  t.ok(token.oAuthSettings.customParameters.resourceUri.value);
  t.notOk('clientSecret' in token.oAuthSettings, 'no secret committed');
  t.same(Object.keys(committedDoc.securityDefinitions), ['oauth2_auth']);
  t.ok(
    readFileSync(join(root, 'connector/icon.png')).equals(drawIcon(CONNECTOR_BRAND_COLOR)),
    'icon.png is drawn in the brand colour',
  );
});

t.test('npm run connector refuses a missing or malformed host with a message and exit code 2', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/build-connector.ts'), ...args], {
      encoding: 'utf8',
      cwd: root,
    });
  const missing = run();
  t.equal(missing.status, 2);
  t.match(missing.stderr, /--host is required/);
  const bad = run('--host', 'relay.contoso.com/v1');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /bare host/);
  const auth = run('--host', 'relay.contoso.com', '--auth', 'basic');
  t.equal(auth.status, 2);
  t.match(auth.stderr, /use entra or apikey/);
});

t.test('both built variants pass every rule and carry the real host', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'connector-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const auth of ['entra', 'apikey'] as const) {
    const out = join(dir, auth);
    await buildConnector({
      host: 'relay.contoso.com',
      auth,
      out,
      clientId: '11111111-2222-3333-4444-555555555555',
      resourceUri: 'api://relay.contoso.com',
    });
    for (const f of [
      'apiDefinition.swagger.json',
      'apiProperties.json',
      'icon.png',
      'settings.json',
      'readme.md',
    ]) {
      t.ok(existsSync(join(out, f)), `${auth}: ${f}`);
    }
    const findings = checkPackage(
      {
        definition: join(out, 'apiDefinition.swagger.json'),
        properties: join(out, 'apiProperties.json'),
        settings: join(out, 'settings.json'),
        icon: join(out, 'icon.png'),
        readme: join(out, 'readme.md'),
      },
      { host: 'relay.contoso.com', resourceUri: auth === 'entra' ? 'api://relay.contoso.com' : undefined },
    );
    t.same(findings, [], `${auth}: no findings`);
    const doc = JSON.parse(readFileSync(join(out, 'apiDefinition.swagger.json'), 'utf8'));
    const props = JSON.parse(readFileSync(join(out, 'apiProperties.json'), 'utf8')).properties;
    t.same(
      Object.keys(doc.paths),
      Object.keys(committedDoc.paths),
      `${auth}: same operations as the committed definition`,
    );
    if (auth === 'apikey') {
      t.same(doc.securityDefinitions, {
        api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An Admin Relay API key.' },
      });
      t.same(doc.security, [{ api_key: [] }]);
      t.match(props.connectionParameters.api_key, {
        type: 'securestring',
        uiDefinition: { constraints: { clearText: false, required: 'true' } },
      });
      t.notOk(props.connectionParameters.token);
    } else {
      t.equal(
        props.connectionParameters.token.oAuthSettings.clientId,
        '11111111-2222-3333-4444-555555555555',
      );
    }
  }
});

t.test('--host takes a bare host or an https URL, nothing else', async (t) => {
  t.same(parseHost('relay.contoso.com'), { host: 'relay.contoso.com', basePath: '/' });
  t.same(parseHost('relay.contoso.com:8443'), { host: 'relay.contoso.com:8443', basePath: '/' });
  t.same(parseHost('https://relay.contoso.com/admin/'), { host: 'relay.contoso.com', basePath: '/admin' });
  t.throws(() => parseHost('http://relay.contoso.com'), /https only/);
  t.throws(() => parseHost('relay.contoso.com/v1'), /bare host/);
});

t.test('the checker catches each kind of mistake', async (t) => {
  const bad = structuredClone(committedDoc);
  const install = bad.paths['/v1/environments/{environmentId}/packages/{uniqueName}/install'].post;
  install['x-ms-long-running-operation'] = true;
  install.summary = 'Install a package/wait.';
  install.responses['202'].schema = { type: 'object' };
  install.parameters[0]['x-ms-url-encoding'] = undefined;
  delete install.parameters[0]['x-ms-url-encoding'];
  install.parameters[1]['x-ms-dynamic-values'].operationId = 'NoSuchOperation';
  bad.definitions.InstallResult.properties.operationId.format = 'guid';
  bad.definitions.InstallResult.properties.status.anyOf = [{ type: 'string' }];
  bad.info.title = 'Admin Relay API';
  bad.schemes = ['http'];
  const findings = checkDefinition(bad).join('\n');
  for (const expected of [
    /x-ms-long-running-operation/,
    /summary contains \//,
    /only 200 or 201 may carry a schema/,
    /x-ms-url-encoding/,
    /NoSuchOperation/,
    /format guid/,
    /uses anyOf/,
    /info\.title must not name API/,
    /schemes must be \["https"\]/,
    /schema: /,
  ]) {
    t.match(findings, expected, String(expected));
  }

  const props = apiProperties('entra');
  const token = props.properties.connectionParameters.token as { oAuthSettings: Record<string, unknown> };
  token.oAuthSettings.clientSecret = 'oops';
  props.properties.iconBrandColor = '#007ee5';
  const propFindings = checkProperties(props, committedDoc).join('\n');
  t.match(propFindings, /client secret/);
  t.match(propFindings, /reserved/);
  t.match(checkProperties(apiProperties('apikey'), committedDoc).join('\n'), /oauth2 and the token/);

  t.match(
    checkIcon(readFileSync(join(root, 'connector/icon.png')), '#123456').join('\n'),
    /differs from iconBrandColor/,
  );
});
