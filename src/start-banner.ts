// What `npm start` prints once the relay listens. In simulator mode it shows the demo key so a
// newcomer can try the API at once; outside it never shows a key, because the banner ends up in
// container logs that more people can read than the relay's configuration.
import type { Config } from './config.js';

export function startBanner(
  config: Pick<Config, 'upstream' | 'authMode' | 'demoApiKey' | 'publicBaseUrl'>,
  address: string,
  notes: readonly string[],
): string {
  const base = config.publicBaseUrl;
  const shownKey = config.upstream === 'simulator' && config.demoApiKey ? config.demoApiKey : '<your key>';
  const keyHeader = config.authMode === 'apikey' ? ` -H "X-API-Key: ${shownKey}"` : '';
  return [
    '',
    `Admin Relay listening on ${address} (upstream: ${config.upstream}, auth: ${config.authMode})`,
    ...notes,
    `swagger UI ${base}/docs`,
    `definition ${base}/apiDefinition.swagger.json`,
    '',
    'Try it:',
    `  curl${keyHeader} ${base}/v1/environments`,
    `  curl${keyHeader} ${base}/v1/tenant-isolation`,
    '',
  ].join('\n');
}
