// zod schemas for environments and packages: the single source of the connector definition
// (labels, help text, pickers) and of request validation.
import { z } from 'zod';
import { PATH_VALUE_MAX_LENGTH } from '../path-values.js';
import { field } from '../connector-definition/public.js';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** Environment ids are GUIDs, and the default environment's is "Default-<tenant GUID>". */
export const ENVIRONMENT_ID = new RegExp(`^(Default-)?${GUID}$`);

export const environmentIdParam = z
  .string()
  .regex(ENVIRONMENT_ID, { error: 'must be an environment id: a GUID, or Default-<tenant GUID> for the default environment' })
  .meta({
    description: 'The environment id (not the Dataverse organization id). Pick it from the list.',
    'x-ms-summary': 'Environment',
    // Only environments with Dataverse: the others cannot take packages (they answer 409).
    'x-ms-dynamic-values': {
      operationId: 'ListEnvironments',
      parameters: { hasDataverse: true },
      'value-collection': 'value',
      'value-path': 'id',
      'value-title': 'displayName',
    },
  });

export const uniqueNameParam = z
  .string()
  .min(1)
  .max(PATH_VALUE_MAX_LENGTH)
  .meta({
    description: "The package's unique name, such as msdyn_ContosoSurveysAnchor (not its display name). Pick it from the list.",
    'x-ms-summary': 'Package',
    'x-ms-dynamic-values': {
      operationId: 'ListPackages',
      parameters: { environmentId: { parameter: 'environmentId' } },
      'value-collection': 'value',
      'value-path': 'uniqueName',
      'value-title': 'displayName',
    },
  });

export const environmentParams = z.object({ environmentId: environmentIdParam });
export const packageParams = z.object({ environmentId: environmentIdParam, uniqueName: uniqueNameParam });

export const environmentSchema = z
  .object({
    id: z.string().meta(field('Environment Id', 'The environment id.')),
    displayName: z.string().meta(field('Display Name', 'The name shown in the admin center.')),
    location: z.string().nullable().meta(field('Location', 'The region, e.g. unitedstates.')),
    environmentSku: z
      .string()
      .nullable()
      .meta(field('Type', 'Default, Production, Sandbox, Teams, Developer or Trial.')),
    hasDataverse: z
      .boolean()
      .meta(field('Has Dataverse', 'True when the environment has a Dataverse database (needed to install packages).')),
    dataverseUrl: z
      .string()
      .nullable()
      .meta(field('Dataverse URL', 'The Dataverse instance URL, or null without Dataverse.')),
  })
  .meta({ id: 'Environment' });

export const listEnvironmentsQuery = z.object({
  hasDataverse: z
    .stringbool({ error: 'must be true or false' })
    .optional()
    .meta(field('Has Dataverse', 'true: only environments with Dataverse (the ones packages install into); false: only those without.', { 'x-ms-visibility': 'advanced' })),
});

export const environmentListSchema = z.object({
  value: z.array(environmentSchema).meta(field('Environments', 'The environments the relay can manage.')),
});

export const packageErrorSchema = z
  .object({
    code: z.string().nullable().meta(field('Error Code', 'Upstream error code (a number or a hex string, as text).')),
    name: z.string().nullable().meta(field('Error Name', 'Upstream error name, e.g. SolutionImportFailed.')),
    message: z.string().nullable().meta(field('Error Message', 'What upstream said went wrong.')),
    source: z.string().nullable().meta(field('Error Source', 'Where the error came from, e.g. Dataverse.')),
  })
  .meta({ id: 'PackageError' });

export const packageSchema = z
  .object({
    uniqueName: z.string().meta(field('Unique Name', 'The name installs use, e.g. msdyn_ContosoSurveysAnchor.')),
    displayName: z.string().meta(field('Display Name', 'The localized package name.')),
    version: z.string().nullable().meta(field('Version', 'The version of this entry.')),
    publisherName: z.string().nullable().meta(field('Publisher', 'The publisher.')),
    description: z.string().nullable().meta(field('Description', 'The localized description.')),
    applicationId: z.string().nullable().meta(field('Application Id', 'The application id (not usable for installs).')),
    learnMoreUrl: z.string().nullable().meta(field('Learn More URL', 'A page about the package.')),
    state: z
      .string()
      .meta(field('State', 'Upstream state: None, Installed, InstallRequested, Installing, InstallFailed…')),
    installed: z.boolean().meta(field('Installed', 'True when this version is installed.')),
    updateAvailable: z
      .boolean()
      .meta(field('Update Available', 'True when a newer version than the installed one is offered.')),
    availableVersion: z
      .string()
      .nullable()
      .meta(field('Available Version', 'The newer version offered when an update is available.')),
    error: packageErrorSchema.nullable().meta(field('Error', 'The last error upstream recorded for the package.')),
  })
  .meta({ id: 'Package' });

export const packageListSchema = z.object({
  value: z.array(packageSchema).meta(field('Packages', 'The packages, every upstream page included.')),
});

export const listPackagesQuery = z.object({
  state: z
    .enum(['All', 'Installed', 'NotInstalled'])
    .default('All')
    .meta({
      description: 'Which packages to list: all, installed only, or not installed only.',
      'x-ms-summary': 'State',
      'x-ms-visibility': 'advanced',
      'x-ms-enum-values': [
        { value: 'All', displayName: 'All packages' },
        { value: 'Installed', displayName: 'Installed' },
        { value: 'NotInstalled', displayName: 'Not installed' },
      ],
    }),
  search: z
    .string()
    .max(200)
    .optional()
    .meta(field('Search', 'Text to look for in the unique name, display name or publisher.', { 'x-ms-visibility': 'advanced' })),
  lcid: z
    .string()
    .regex(/^\d{4,5}$/, { error: 'must be a language id such as 1033' })
    .optional()
    .meta(field('Language', 'Language id for names and descriptions, e.g. 1033 (English) or 1036 (French).', { 'x-ms-visibility': 'advanced' })),
});

export const getPackageQuery = listPackagesQuery.pick({ lcid: true });
