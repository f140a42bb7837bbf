// The install area as one Fastify plugin: its services built once, then its three route groups
// (environment picker, package reads and installs, operation status and waits) and the
// install-finished trigger.
import { relayPlugin } from '../http/relay-app.js';
import { registerEnvironmentRoutes } from './environment-routes.js';
import { registerOperationRoutes } from './operation-routes.js';
import { registerPackageRoutes } from './package-routes.js';
import { registerInstallTriggerRoutes } from './install-trigger-routes.js';
import { createInstallServices, type InstallServices, type InstallWiringDeps } from './wiring.js';

export type InstallsPluginOptions = Omit<InstallWiringDeps, 'log' | 'metrics'> & {
  /** Services built by the app and shared with other features (rollouts); built here when absent. */
  services?: InstallServices;
};

export const installsPlugin = relayPlugin<InstallsPluginOptions>(
  async (app, options) => {
    const services = options.services ?? createInstallServices({ ...options, log: app.log, metrics: app.metrics });
    // Stops hearing other replicas' progress notices when the app closes.
    app.addHook('onClose', async () => services.close());
    await registerEnvironmentRoutes(app, services);
    await registerPackageRoutes(app, services);
    await registerOperationRoutes(app, services);
    registerInstallTriggerRoutes(app, services, services.installFinished);
  },
  {
    name: 'relay-installs',
    dependencies: ['relay-auth', 'relay-openapi', 'relay-metrics', 'relay-shutdown'],
    decorators: { fastify: ['metrics', 'shuttingDown', 'onShuttingDown'] },
    encapsulate: true,
  },
);
