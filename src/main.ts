// Process entry: load config, start the embedded simulator when there are no upstream
// credentials, build the relay, listen, and shut down gracefully.
import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { RelayMetrics } from './http/metrics.js';
import { installGracefulShutdown } from './http/shutdown.js';
import { createUpstreamClients } from './upstream/index.js';
import { simulatorEnv } from './upstream/simulator-env.js';
import { startBanner } from './start-banner.js';

async function main() {
  let config = loadConfig(process.env);
  let simulator: Awaited<ReturnType<typeof import('./simulator/index.js').startSimulator>> | undefined;
  const notes: string[] = [];

  if (config.upstream === 'simulator') {
    // Loaded only here: its certificate libraries cost a live-mode start about 300 ms for nothing.
    const { startSimulator } = await import('./simulator/index.js');
    simulator = await startSimulator({ seed: config.simulatorSeed, speed: config.simulatorSpeed });
    const demoApiKey = config.demoApiKey ?? randomBytes(18).toString('base64url');
    config = loadConfig({
      ...process.env,
      ...simulatorEnv(simulator),
      UPSTREAM: 'simulator',
      DEMO_API_KEY: demoApiKey,
      WAIT_URL_SECRET: process.env.WAIT_URL_SECRET || randomBytes(32).toString('base64url'),
    });
    notes.push(
      `simulator  ${simulator.origin}  (Entra ID, Power Platform API and BAP; CA certificate ${simulator.caCertPath})`,
      `demo key   ${demoApiKey}${process.env.DEMO_API_KEY ? ' (from DEMO_API_KEY)' : ' (generated; set DEMO_API_KEY to choose one)'}`,
    );
  }
  if (!config.waitUrlSecret) throw new ConfigError('WAIT_URL_SECRET', 'required');

  const metrics = new RelayMetrics();
  const upstream = createUpstreamClients(config, { observer: metrics });
  const app = await buildApp({ config, upstream, metrics });
  app.addHook('onClose', async () => {
    await upstream.close();
    await simulator?.close();
  });
  const address = await app.listen({ port: config.port, host: config.host });
  if (config.publicBaseUrlDefaulted) config.publicBaseUrl = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  installGracefulShutdown(app, { timeoutMs: 25_000 });

  console.log(startBanner(config, address, notes));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`Admin Relay cannot start: ${err.message}`);
  } else {
    console.error('Admin Relay failed to start:', err);
  }
  process.exit(1);
});
