// The contract check itself: it must flag an answer that drifts from either document, so that
// test/contract/responses.test.ts can fail. Answers here are made up; no relay runs.
import t from 'tap';
import { type Answer, ContractChecker } from './helpers/contract-check.js';

const checker = new ContractChecker();
const SALES = '3f2e1d0c-9b8a-4776-a554-433221100ffe';
const json = { 'content-type': 'application/json; charset=utf-8', 'x-correlation-id': 'c-1' };
const pkg = {
  uniqueName: 'msdyn_ContosoSurveysAnchor',
  displayName: 'Contoso Surveys',
  version: '3.1.0.12',
  publisherName: 'Contoso',
  description: null,
  applicationId: null,
  learnMoreUrl: null,
  state: 'None',
  installed: false,
  updateAvailable: false,
  availableVersion: null,
  error: null,
};
const getPackage = (body: unknown, status = 200, headers: Record<string, string> = json): Answer => ({
  method: 'GET',
  path: `/v1/environments/${SALES}/packages/msdyn_ContosoSurveysAnchor`,
  status,
  headers,
  body,
});

t.test('a well-formed answer passes, error: null included', async (t) => {
  t.same(checker.check(getPackage(pkg)), []);
  t.same(checker.check(getPackage({ ...pkg, error: { code: '0x1', name: null, message: 'm', source: null } })), []);
});

t.test('drift in a 2xx body is caught by both documents', async (t) => {
  const findings = checker.check(getPackage({ ...pkg, surprise: true }));
  t.ok(findings.some((f) => f.includes('body:') && f.includes('surprise')), 'full contract');
  t.ok(findings.some((f) => f.includes('(draft-04)') && f.includes('surprise')), 'connector definition');
  t.ok(checker.check(getPackage({ ...pkg, installed: 'yes' })).length > 0, 'a wrong type');
});

t.test('an undeclared status, a missing or mistyped header, a wrong error body', async (t) => {
  t.match(checker.check(getPackage({}, 418)).join('\n'), /does not declare 418/);
  t.match(checker.check(getPackage(pkg, 200, { 'content-type': 'application/json' })).join('\n'), /required header x-correlation-id missing/);
  const throttled = getPackage({ error: { code: 'UpstreamThrottled', message: 'm', correlationId: 'c' } }, 429, { ...json, 'retry-after': 'soon' });
  t.match(checker.check(throttled).join('\n'), /header retry-after=soon/);
  t.match(checker.check(getPackage({ error: { code: 'X' } }, 404)).join('\n'), /must have required property 'message'/);
  const install: Answer = {
    method: 'POST',
    path: `/v1/environments/${SALES}/packages/msdyn_ContosoSurveysAnchor/install`,
    status: 202,
    headers: json,
    body: { operationId: null, environmentId: SALES, status: 'Running', packageUniqueName: null, statusUrl: 'https://x' },
  };
  t.match(checker.check(install).join('\n'), /required header location missing/);
  const notFound = getPackage({ error: { code: 'PackageNotFound', message: 'm', correlationId: 'c' } }, 404, { ...json, 'retry-after': '5' });
  t.match(checker.check(notFound).join('\n'), /header retry-after is sent but not declared/);
});

t.test('a nullable $ref (x-nullable beside $ref) rejects null, as OpenAPI 2.0 tools read it', async (t) => {
  const definition = structuredClone(checker.definition) as { definitions: Record<string, { properties: Record<string, unknown> }> };
  const inline = definition.definitions.Package!.properties.error as Record<string, unknown>;
  definition.definitions.PackageError = { ...inline, 'x-nullable': undefined } as never;
  definition.definitions.Package!.properties.error = { $ref: '#/definitions/PackageError', 'x-nullable': true };
  const old = new ContractChecker({ definition: JSON.parse(JSON.stringify(definition)) });
  t.match(old.checkDefinition(getPackage(pkg)).join('\n'), /\/error must be object/);
});
