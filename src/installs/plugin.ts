// The install area as one Fastify plugin: its services built once, then its three route groups
// (environment picker, package reads and installs, operation status and waits).
import { relayPlugin } from '../http/relay-app.js';
import { registerEnvironmentRoutes } from './environment-routes.js';
import { registerOperationRoutes } from './operation-routes.js';
import { registerPackageRoutes } from './package-routes.js';
import { createInstallServices, type InstallServices, type InstallWiringDeps } from './wiring.js';

export type InstallsPluginOptions = Omit<InstallWiringDeps, 'log' | 'metrics'> & {
  /** Services built by the app and shared with other features (rollouts); built here when absent. */
  services?: InstallServices;
};

export const installsPlugin = relayPlugin<InstallsPluginOptions>(
  async (app, options) => {
    const services = options.services ?? createInstallServices({ ...options, log: app.log, metrics: app.metrics });
    await registerEnvironmentRoutes(app, services);
    await registerPackageRoutes(app, services);
    await registerOperationRoutes(app, services);
  },
  {
    name: 'relay-installs',
    dependencies: ['relay-auth', 'relay-openapi', 'relay-metrics', 'relay-shutdown'],
    decorators: { fastify: ['metrics', 'shuttingDown'] },
    encapsulate: true,
  },
);
