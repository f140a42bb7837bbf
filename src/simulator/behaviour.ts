// Checks one behaviour option before it is applied, so a typo in a test or seed fails with a sentence
// instead of a simulator that quietly misbehaves.
import type { SimulatorBehaviour } from './types.js';

const CHOICES: Partial<Record<keyof SimulatorBehaviour, readonly unknown[]>> = {
  installResponse: ['operation-location', 'operation-location-with-body', 'body-200', 'body-202', 'bare-202'],
  busyStatus: [409, 400],
  isolationPut: ['sync', 'async', 'async-operation-location', 'async-no-location'],
  neverConfiguredResponse: ['404', 'null', 'empty', 'emptyPolicy'],
  entraErrorSeparator: ['crlf', 'space'],
  environmentShape: ['captured', 'legacy'],
  installBodyEmptyText: ['empty-string', 'null'],
  succeededOperationError: ['absent', 'null'],
};

export function checkBehaviour<K extends keyof SimulatorBehaviour>(
  key: K,
  value: unknown,
): SimulatorBehaviour[K] {
  const choices = CHOICES[key];
  if (choices) {
    if (!choices.includes(value)) {
      throw new Error(
        `Simulator option ${key} must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}.`,
      );
    }
  } else if (key === 'pageSize') {
    if (!(Number.isInteger(value) && (value as number) >= 1))
      throw new Error('Simulator option pageSize must be a whole number ≥ 1.');
  } else if (key === 'slowPutMs') {
    if (!(typeof value === 'number' && value >= 0))
      throw new Error('Simulator option slowPutMs must be a number of milliseconds ≥ 0.');
  } else if (key === 'operationLocationOrigin') {
    if (!(typeof value === 'string' && (value === '' || /^https?:\/\/[^/?#]+$/.test(value))))
      throw new Error("Simulator option operationLocationOrigin must be '' (the simulator's own) or an origin such as https://elsewhere.example.");
  } else if (key === 'registeredClientIds') {
    if (!(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      throw new Error('Simulator option registeredClientIds must be a list of client id strings.');
    }
  } else {
    throw new Error(`Unknown simulator option '${String(key)}'.`);
  }
  return value as SimulatorBehaviour[K];
}
