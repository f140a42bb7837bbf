// zod schemas for the install action, its status and its wait URL. The 200 schema is the same
// for InstallPackage, GetInstallStatus and the wait endpoint, as the connector rules require.
import { z } from 'zod';
import { INSTALL_STATUSES } from './install-status.js';
import { environmentIdParam, packageErrorSchema, uniqueNameParam } from './package-schemas.js';
import { field } from '../connector-definition/public.js';

const statusEnum = z.enum(INSTALL_STATUSES).meta(field('Status', "The install's status as Power Platform reports it: NotStarted or Running while it runs; Succeeded, Failed or Canceled when it ended."));

export const installResultSchema = z
  .object({
    operationId: z
      .string()
      .nullable()
      .meta(field('Operation Id', 'The upstream install operation id; null when nothing had to be installed.')),
    environmentId: z.string().meta(field('Environment Id', 'The environment.')),
    packageUniqueName: z.string().nullable().meta(field('Package Unique Name', 'The package unique name.')),
    packageVersion: z.string().nullable().meta(field('Package Version', 'The version installed (or being installed).')),
    status: statusEnum,
    alreadyInstalled: z
      .boolean()
      .meta(field('Already Installed', 'True when the package was already installed at this or a newer version, so nothing ran.')),
    startedAt: z.string().nullable().meta(field('Started At', 'When the install started (ISO 8601).')),
    completedAt: z.string().nullable().meta(field('Completed At', 'When the install ended (ISO 8601); null while it runs.')),
    durationSeconds: z.number().nullable().meta(field('Duration (s)', 'How long the install took, in seconds.')),
    statusMessage: z.string().nullable().meta(field('Status Message', 'Upstream status text.')),
    error: packageErrorSchema.nullable().meta(field('Error', 'Why the install failed, as upstream reported it.')),
    waitTimedOut: z.boolean().meta(field('Wait Timed Out', "True when the relay stopped waiting because its install deadline (INSTALL_DEADLINE_MINUTES) passed while the install still ran: not the install's outcome (Status still says NotStarted or Running). Follow it with GetInstallStatus, or run the install again to join it and wait again.")),
  })
  .meta({ id: 'InstallResult' });

/** The 202 body: stands alone for makers who turn the asynchronous pattern off. */
export const installAcceptedSchema = z.object({
  operationId: z.string().nullable().meta(field('Operation Id', 'The upstream install operation id.')),
  environmentId: z.string().meta(field('Environment Id', 'The environment.')),
  status: statusEnum,
  packageUniqueName: z.string().nullable().meta(field('Package Unique Name', 'The package unique name.')),
  statusUrl: z
    .string()
    .meta(field('Status URL', 'The signed URL that answers 202 while the install runs and the result when it ends.')),
}).meta({ id: 'InstallAccepted' });

const waitSeconds = z.coerce
  .number()
  .int()
  .min(0)
  .max(100)
  .default(0)
  .meta(field('Wait Seconds', 'Hold the request up to this many seconds (0 to 100) and answer as soon as the install ends.', { 'x-ms-visibility': 'advanced' }));

const failOnError = z
  .enum(['true', 'false'])
  .default('true')
  .meta(field('Fail On Error', 'true (default): a failed or canceled install fails the action. false: it returns status Failed or Canceled so the flow can branch.', { 'x-ms-visibility': 'advanced' }));

export const installParams = z.object({ environmentId: environmentIdParam, uniqueName: uniqueNameParam });
export const installQuery = z.object({ waitSeconds, failOnError });

const operationIdParam = z.guid().meta(field('Operation Id', 'The install operation id InstallPackage returned.'));
export const operationParams = z.object({ environmentId: environmentIdParam, operationId: operationIdParam });

const packageQueryParam = z
  .string()
  .min(1)
  .max(256)
  .optional()
  .meta(field('Package', 'The package unique name, so the answer can name it.', { 'x-ms-visibility': 'advanced' }));

export const statusQuery = z.object({ package: packageQueryParam });

export const waitQuery = z.object({
  package: packageQueryParam,
  version: z.string().max(64).optional().meta(field('Version', 'The package version being installed.', { 'x-ms-visibility': 'internal' })),
  failOnError,
  waitSeconds,
  sig: z
    .string()
    .max(200)
    .optional()
    .meta(field('Signature', 'The signature that lets the flow engine poll without credentials.', { 'x-ms-visibility': 'internal' })),
});
