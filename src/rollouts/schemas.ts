// zod schemas of the rollout operations: the start request, the rollout with one row per
// environment (flat, so a flow can put it in a table), the page of rollouts.
import { z } from 'zod';
import { field } from '../connector-definition/public.js';
import { ROLLOUT_MODES, ROLLOUT_STATUSES, SKIP_REASONS, TARGET_STATUSES } from './rollout-model.js';

const filterSchema = z
  .object({
    dataverseOnly: z.boolean().optional().meta(field('Only with Dataverse', 'Only environments that have a Dataverse database.')),
    types: z.array(z.string().min(1).max(64)).max(20).optional().meta(field('Types', 'Environment types, e.g. Production, Sandbox, Developer (any case).')),
    regions: z.array(z.string().min(1).max(64)).max(50).optional().meta(field('Regions', 'Regions, e.g. unitedstates, europe (any case).')),
    displayNamePattern: z.string().min(1).max(256).optional().meta(field('Display name pattern', 'Display names to match; * stands for any text, e.g. "Contoso *" (any case).')),
  })
  .strict()
  .meta(field('Filter', 'Which environments, when not listed by id: every condition given must hold.'));

export const startRolloutBody = z
  .object({
    packageUniqueName: z.string().trim().min(1).max(256).optional().meta(field('Package', 'The package unique name. Leave empty with allPendingUpdates true to update every package that has an update available.', { 'x-ms-visibility': 'important' })),
    allPendingUpdates: z.boolean().default(false).meta(field('All pending updates', 'true: update every installed package that has a newer version available, instead of one package.')),
    environmentIds: z.array(z.string().trim().min(1).max(128)).min(1).max(1000).optional().meta(field('Environment ids', 'The target environments by id; or give a filter instead.')),
    filter: filterSchema.optional(),
    mode: z.enum(ROLLOUT_MODES).default('installOrUpdate').meta(field('Mode', 'install: only where the package is not installed. update: only where an older version is installed. installOrUpdate (default): both.', { 'x-ms-visibility': 'important' })),
    maxConcurrent: z.number().int().min(1).max(50).default(5).meta(field('Max concurrent', 'Installs running at once (1-50, default 5).', { 'x-ms-visibility': 'advanced' })),
    stopAfterFailures: z.number().int().min(1).max(1000).optional().meta(field('Stop after failures', 'Start no new installs once this many environments failed.', { 'x-ms-visibility': 'advanced' })),
    stopAtFailureRatio: z.number().gt(0).max(1).optional().meta(field('Stop at failure ratio', 'Start no new installs once this share (0-1) of finished installs failed; judged once as many installs finished as run at once.', { 'x-ms-visibility': 'advanced' })),
    reason: z.string().trim().min(1).max(500).meta(field('Reason', 'Why this rollout runs; kept in its record and logs.', { 'x-ms-visibility': 'important' })),
    dryRun: z.boolean().default(false).meta(field('Dry run', 'true: answer with the plan (who gets what, and why others are skipped) and change nothing.')),
  })
  .strict();

const targetSchema = z.object({
  environmentId: z.string().meta(field('Environment Id', 'The environment.')),
  environmentName: z.string().meta(field('Environment', 'The environment display name.')),
  packageUniqueName: z.string().nullable().meta(field('Package', 'The package unique name.')),
  fromVersion: z.string().nullable().meta(field('From version', 'The version installed before; null when it was not installed.')),
  toVersion: z.string().nullable().meta(field('To version', 'The version installed (or to be installed).')),
  status: z.enum(TARGET_STATUSES).meta(field('Status', 'Planned, Running, Succeeded, Failed, Skipped, or NotStarted (canceled or stopped before its turn).')),
  skipReason: z.enum(SKIP_REASONS).nullable().meta(field('Skip reason', 'Why it was skipped: NoDataverse, NotOffered, AlreadyCurrent, NotInstalled, AlreadyInstalled, NoUpdateAvailable or EnvironmentNotFound.')),
  operationId: z.string().nullable().meta(field('Operation Id', 'The upstream install operation id.')),
  startedAt: z.string().nullable().meta(field('Started', 'When its install started (ISO 8601).')),
  finishedAt: z.string().nullable().meta(field('Finished', 'When its install ended (ISO 8601).')),
  error: z.string().nullable().meta(field('Error', "Why it failed: upstream's message and the operation id.")),
  errorCode: z.string().nullable().meta(field('Error code', 'The error code, e.g. InstallFailed.')),
  deferrals: z.number().int().meta(field('Deferrals', 'Times its start was put off because the environment was busy or upstream throttled.', { 'x-ms-visibility': 'advanced' })),
});

const countsSchema = z.object({
  total: z.number().int().meta(field('Total', 'Rows in the rollout.')),
  planned: z.number().int().meta(field('Planned', 'Waiting their turn.')),
  running: z.number().int().meta(field('Running', 'Installing now.')),
  succeeded: z.number().int().meta(field('Succeeded', 'Installed.')),
  failed: z.number().int().meta(field('Failed', 'Failed.')),
  skipped: z.number().int().meta(field('Skipped', 'Nothing to do there (see skip reason).')),
  notStarted: z.number().int().meta(field('Not started', 'Not started because of a cancel or the stop rule.')),
}).meta(field('Counts', 'How many rows have each status.'));

export const rolloutSchema = z
  .object({
    rolloutId: z.string().meta(field('Rollout Id', 'The rollout id (null for a dry run).')).nullable(),
    status: z.enum(ROLLOUT_STATUSES).meta(field('Status', 'Running, Succeeded, PartiallySucceeded, Failed or Canceled.')),
    dryRun: z.boolean().meta(field('Dry run', 'True when this is only the plan.')),
    packageUniqueName: z.string().nullable().meta(field('Package', 'The package; null for all pending updates.')),
    mode: z.enum(ROLLOUT_MODES).meta(field('Mode', 'install, update or installOrUpdate.')),
    reason: z.string().meta(field('Reason', 'Why the rollout runs.')),
    createdBy: z.string().meta(field('Started by', 'Who started it.')),
    createdAt: z.string().meta(field('Started at', 'When it started (ISO 8601).')),
    endedAt: z.string().nullable().meta(field('Ended at', 'When it ended (ISO 8601).')),
    cancelRequested: z.boolean().meta(field('Cancel requested', 'True once it was canceled (running installs still finish).')),
    stoppedBecause: z.string().nullable().meta(field('Stopped because', 'Why the stop rule ended new starts.')),
    counts: countsSchema,
    summary: z.string().meta(field('Summary', 'One line for a message: status and counts.')),
    environments: z.array(targetSchema).meta(field('Environments', 'One row per environment and package.')),
  })
  .meta({ id: 'Rollout' });

export const rolloutAcceptedSchema = z
  .object({
    rolloutId: z.string().meta(field('Rollout Id', 'The rollout id.')),
    status: z.enum(ROLLOUT_STATUSES).meta(field('Status', 'Running.')),
    statusUrl: z.string().meta(field('Status URL', 'The signed URL that answers 202 while the rollout runs and the result when it ends.')),
  })
  .meta({ id: 'RolloutAccepted' });

const waitSeconds = z.coerce.number().int().min(0).max(100).default(0).meta(field('Wait Seconds', 'Hold the request up to this many seconds (0 to 100) and answer as soon as the rollout ends.', { 'x-ms-visibility': 'advanced' }));
const failOnError = z.enum(['true', 'false']).default('true').meta(field('Fail On Error', 'true (default): a rollout that ends Failed, PartiallySucceeded or Canceled fails the action (422). false: it returns the result so the flow can branch.', { 'x-ms-visibility': 'advanced' }));

export const startQuery = z.object({ waitSeconds, failOnError });
export const rolloutParams = z.object({ rolloutId: z.guid().meta(field('Rollout Id', 'The rollout id StartRollout returned.')) });
export const waitRolloutQuery = z.object({
  failOnError,
  waitSeconds,
  sig: z.string().max(200).optional().meta(field('Signature', 'The signature that lets the flow engine poll without credentials.', { 'x-ms-visibility': 'internal' })),
});
export const cancelBody = z.object({ reason: z.string().trim().min(1).max(500).meta(field('Reason', 'Why the rollout is canceled; kept in its record.')) }).strict();
export const listQuery = z.object({
  pageSize: z.coerce.number().int().min(1).max(100).default(20).meta(field('Page size', 'Rollouts per page (1-100).', { 'x-ms-visibility': 'advanced' })),
  continuationToken: z.string().regex(/^\d{1,9}$/, 'must be the continuationToken of the previous page').optional().meta(field('Continuation token', 'From the previous page, to get the next one.', { 'x-ms-visibility': 'advanced' })),
});
export const rolloutPageSchema = z.object({
  value: z.array(rolloutSchema).meta(field('Rollouts', 'The rollouts on this page, newest first.')),
  continuationToken: z.string().nullable().meta(field('Continuation token', 'Pass as continuationToken for the next page; null on the last page.')),
  nextLink: z.string().nullable().meta(field('Next page', 'The URL of the next page; null on the last page.', { 'x-ms-visibility': 'internal' })),
});
