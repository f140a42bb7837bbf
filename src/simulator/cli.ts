// `npm run simulator -- [--port N] [--host H] [--seed file.json] [--speed X] [--environments N]`: the simulator alone.
import { parseArgs } from 'node:util';
import { startSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env['SIMULATOR_PORT'] ?? '8443' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string', default: process.env['SIMULATOR_SEED'] },
    speed: { type: 'string', default: '1' },
    logger: { type: 'boolean', default: false },
    environments: { type: 'string', default: '0' },
  },
});

const port = Number(values.port);
const speed = Number(values.speed);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number (0-65535), got '${values.port}'.`);
  process.exit(2);
}
const environments = Number(values.environments);
if (!Number.isInteger(environments) || environments < 0 || environments > 5000) {
  console.error(`--environments must be a whole number from 0 to 5000, got '${values.environments}'.`);
  process.exit(2);
}
if (!(speed > 0)) {
  console.error(`--speed must be a positive number, got '${values.speed}'.`);
  process.exit(2);
}

const sim = await startSimulator({
  port,
  host: values.host,
  seed: values.seed,
  speed,
  logger: values.logger,
  environments,
});
console.log(`Upstream simulator listening on ${sim.origin}
  CA certificate:   ${sim.caCertPath}   (e.g. NODE_EXTRA_CA_CERTS=${sim.caCertPath})
  Home tenant:      ${sim.tenantId}
  Relay app:        AZURE_CLIENT_ID=${sim.relayApp.clientId}
                    AZURE_CLIENT_SECRET=${sim.relayApp.clientSecret}
                    AZURE_CLIENT_CERTIFICATE_PATH=${sim.relayApp.certificatePath}
  Entra authority:  ${sim.origin}/${sim.tenantId}   (AZURE_AUTHORITY_HOST=${sim.origin})
  PPAPI / BAP base: ${sim.origin}
  Control API:      ${sim.origin}/_simulator   (faults, calls, reset, tokens, options — see docs/simulator.md)
Press Ctrl+C to stop.`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received, stopping the simulator.`);
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
