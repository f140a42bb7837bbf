// Entra error descriptions: the AADSTS code, the message, the trace id and the correlation id are
// read out whether the text came straight from Entra (lines joined with "\r\n"), wrapped by MSAL
// inside @azure/identity, or on one line (older gateways).
import t from 'tap';
import { entraErrorSentence, parseEntraError } from '../../src/upstream/entra-error.js';

const TRACE = '0d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const CORR = '9e8d7c6b-5a49-4382-9716-a5b4c3d2e1f0';
const RAW = `AADSTS7000215: Invalid client secret provided.\r\nTrace ID: ${TRACE}\r\nCorrelation ID: ${CORR}\r\nTimestamp: 2026-01-05 08:15:42Z`;
const EXPECTED = {
  aadstsCode: 'AADSTS7000215',
  message: 'Invalid client secret provided.',
  traceId: TRACE,
  correlationId: CORR,
  timestamp: '2026-01-05 08:15:42Z',
};

t.test('the description as Entra sends it', async (t) => {
  t.same(parseEntraError(RAW, { error: 'invalid_client' }), { error: 'invalid_client', ...EXPECTED });
});

t.test('the same text wrapped by MSAL', async (t) => {
  const wrapped = `invalid_client: Error(s): 7000215 - Timestamp: 2026-01-05 08:15:42Z - Description: ${RAW} - Correlation ID: ${CORR} - Trace ID: ${TRACE}`;
  const d = parseEntraError(wrapped);
  t.same(d, { error: 'invalid_client', ...EXPECTED });
  t.notMatch(d.message, /\r/, 'no stray carriage return');
});

t.test('one line joined with spaces', async (t) => {
  const d = parseEntraError(RAW.replaceAll('\r\n', ' '));
  t.equal(d.aadstsCode, 'AADSTS7000215');
  t.equal(d.traceId, TRACE);
  t.equal(d.correlationId, CORR);
});

t.test('the sentence for a message names the code and both ids', async (t) => {
  t.equal(
    entraErrorSentence(EXPECTED, 'x'),
    `AADSTS7000215: Invalid client secret provided. (trace id ${TRACE}, correlation id ${CORR})`,
  );
  t.equal(entraErrorSentence({}, 'fallback'), 'fallback');
});
