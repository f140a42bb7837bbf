// The schemas of the trigger "When a package install finishes": the maker's settings and each item.
import { z } from 'zod';
import { field } from '../connector-definition/public.js';

const MIN_POLL_SECONDS = 30;
const MAX_POLL_SECONDS = 86_400;
const BOUNDS = `must be a whole number of seconds from ${MIN_POLL_SECONDS} to ${MAX_POLL_SECONDS}`;

export const installTriggerQuery = z.object({
  pollSeconds: z.coerce
    .number({ error: BOUNDS })
    .int({ error: BOUNDS })
    .min(MIN_POLL_SECONDS, { error: `${BOUNDS}: each check lists the environment's packages, so more often costs upstream calls and tells nothing sooner` })
    .max(MAX_POLL_SECONDS, { error: BOUNDS })
    .default(180)
    .meta(field('Check every (seconds)', `How often to check the environment, in seconds (${MIN_POLL_SECONDS}-${MAX_POLL_SECONDS}).`, { 'x-ms-visibility': 'advanced' })),
  cursor: z
    .string()
    .regex(/^pkg-[A-Za-z0-9_-]{22}$/, { error: 'is not a cursor this relay issued; start the trigger again without one' })
    .optional()
    .meta(field('Cursor', 'Where the previous check ended; set by the relay in Location.', { 'x-ms-visibility': 'internal' })),
});

const packageError = z
  .object({
    code: z.string().nullable().meta(field('Code', 'The upstream error code.')),
    name: z.string().nullable().meta(field('Name', 'The upstream error name.')),
    message: z.string().nullable().meta(field('Message', 'What upstream said.')),
    source: z.string().nullable().meta(field('Source', 'Where upstream says the error came from.')),
  })
  .nullable()
  .meta(field('Error', 'The upstream error of a failed install; null otherwise.'));

export const installFinishedItem = z
  .object({
    environmentId: z.string().meta(field('Environment Id', 'The environment.')),
    packageUniqueName: z.string().meta(field('Package Unique Name', 'The package unique name.')),
    displayName: z.string().meta(field('Package name', 'The package display name.')),
    version: z.string().nullable().meta(field('Version', 'The version installed (or that failed).')),
    previousVersion: z.string().nullable().meta(field('Previous version', 'The version installed before an update; null otherwise.')),
    outcome: z.enum(['Installed', 'Updated', 'InstallFailed']).meta(field('Outcome', 'Installed (new), Updated (to a new version) or InstallFailed.')),
    error: packageError,
    operationId: z.string().nullable().meta(field('Operation Id', 'The upstream install operation id, when upstream lists it.')),
    seenAt: z.string().meta(field('Seen at', 'When the relay saw the install had ended (ISO 8601).')),
  })
  .meta({ id: 'PackageInstallFinished' });

export const installTriggerResult = z.object({
  value: z.array(installFinishedItem).meta(field('Installs', 'The installs that ended since the previous check.')),
});
