// What features use from the connector definition: the error statuses their routes declare, and
// the names of the hidden operation an install's Location points at (the generator gives any wait
// route these when it names none).
export * from './error-responses.js';

export const WAIT_OPERATION = {
  operationId: 'WaitForInstall',
  summary: 'Wait for an install to finish',
  description:
    'The Location URL of an install: answers 202 while the install runs and the final result when it ends. The flow engine calls it; makers do not.',
};
export { field } from './field.js';
