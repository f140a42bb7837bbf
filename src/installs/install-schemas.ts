// zod schemas for the install action, its status and its wait URL. The 200 schema is the same
// for InstallPackage, GetInstallStatus and the wait endpoint, as the connector rules require.
import { z } from 'zod';
import { INSTALL_STATUSES } from './install-status.js';
import { environmentIdParam, packageErrorSchema, uniqueNameParam } from './package-schemas.js';

const statusEnum = z.enum(INSTALL_STATUSES).meta({
  description:
    "The install's status as Power Platform reports it: NotStarted or Running while it runs; Succeeded, Failed or Canceled when it ended.",
  'x-ms-summary': 'Status',
});

export const installResultSchema = z
  .object({
    operationId: z
      .string()
      .nullable()
      .meta({ description: 'The upstream install operation id; null when nothing had to be installed.', 'x-ms-summary': 'Operation Id' }),
    environmentId: z.string().meta({ description: 'The environment.', 'x-ms-summary': 'Environment Id' }),
    packageUniqueName: z.string().nullable().meta({ description: 'The package unique name.', 'x-ms-summary': 'Package Unique Name' }),
    packageVersion: z.string().nullable().meta({ description: 'The version installed (or being installed).', 'x-ms-summary': 'Package Version' }),
    status: statusEnum,
    alreadyInstalled: z
      .boolean()
      .meta({ description: 'True when the package was already installed at this or a newer version, so nothing ran.', 'x-ms-summary': 'Already Installed' }),
    startedAt: z.string().nullable().meta({ description: 'When the install started (ISO 8601).', 'x-ms-summary': 'Started At' }),
    completedAt: z.string().nullable().meta({ description: 'When the install ended (ISO 8601); null while it runs.', 'x-ms-summary': 'Completed At' }),
    durationSeconds: z.number().nullable().meta({ description: 'How long the install took, in seconds.', 'x-ms-summary': 'Duration (s)' }),
    statusMessage: z.string().nullable().meta({ description: 'Upstream status text.', 'x-ms-summary': 'Status Message' }),
    error: packageErrorSchema.nullable().meta({ description: 'Why the install failed, as upstream reported it.', 'x-ms-summary': 'Error' }),
    waitTimedOut: z.boolean().meta({
      description:
        "True when the relay stopped waiting because its install deadline (INSTALL_DEADLINE_MINUTES) passed while the install still ran: not the install's outcome (Status still says NotStarted or Running). Follow it with GetInstallStatus, or run the install again to join it and wait again.",
      'x-ms-summary': 'Wait Timed Out',
    }),
  })
  .meta({ id: 'InstallResult' });

/** The 202 body: stands alone for makers who turn the asynchronous pattern off. */
export const installAcceptedSchema = z.object({
  operationId: z.string().nullable().meta({ description: 'The upstream install operation id.', 'x-ms-summary': 'Operation Id' }),
  environmentId: z.string().meta({ description: 'The environment.', 'x-ms-summary': 'Environment Id' }),
  status: statusEnum,
  packageUniqueName: z.string().nullable().meta({ description: 'The package unique name.', 'x-ms-summary': 'Package Unique Name' }),
  statusUrl: z
    .string()
    .meta({ description: 'The signed URL that answers 202 while the install runs and the result when it ends.', 'x-ms-summary': 'Status URL' }),
}).meta({ id: 'InstallAccepted' });

const waitSeconds = z.coerce
  .number()
  .int()
  .min(0)
  .max(100)
  .default(0)
  .meta({
    description: 'Hold the request up to this many seconds (0 to 100) and answer as soon as the install ends.',
    'x-ms-summary': 'Wait Seconds',
    'x-ms-visibility': 'advanced',
  });

const failOnError = z
  .enum(['true', 'false'])
  .default('true')
  .meta({
    description: 'true (default): a failed or canceled install fails the action. false: it returns status Failed or Canceled so the flow can branch.',
    'x-ms-summary': 'Fail On Error',
    'x-ms-visibility': 'advanced',
  });

export const installParams = z.object({ environmentId: environmentIdParam, uniqueName: uniqueNameParam });
export const installQuery = z.object({ waitSeconds, failOnError });

const operationIdParam = z.guid().meta({ description: 'The install operation id InstallPackage returned.', 'x-ms-summary': 'Operation Id' });
export const operationParams = z.object({ environmentId: environmentIdParam, operationId: operationIdParam });

const packageQueryParam = z
  .string()
  .min(1)
  .max(256)
  .optional()
  .meta({ description: 'The package unique name, so the answer can name it.', 'x-ms-summary': 'Package', 'x-ms-visibility': 'advanced' });

export const statusQuery = z.object({ package: packageQueryParam });

export const waitQuery = z.object({
  package: packageQueryParam,
  version: z.string().max(64).optional().meta({ description: 'The package version being installed.', 'x-ms-summary': 'Version', 'x-ms-visibility': 'internal' }),
  failOnError,
  waitSeconds,
  sig: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'The signature that lets the flow engine poll without credentials.', 'x-ms-summary': 'Signature', 'x-ms-visibility': 'internal' }),
});
