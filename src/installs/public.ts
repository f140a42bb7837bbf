// What other features may use of the install area: its services (built once per app and shared,
// so a rollout's installs and a single InstallPackage meet in the same registry and pollers), and
// the install result vocabulary.
export { createInstallServices, type InstallServices, type InstallWiringDeps } from './wiring.js';
export type { InstallStart, InstallView } from './install-service.js';
export type { EnvironmentInfo } from './environment-service.js';
export { endsWait, isFailure, type InstallResult } from './install-status.js';
export { failureMessage } from './install-status.js';
export { normalisePackages, type PackageInfo } from './package-model.js';
export { releaseOnAbort, type WaitRelease } from './wait-release.js';
