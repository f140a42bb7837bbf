// zod schemas for environments and packages: the single source of the connector definition
// (labels, help text, pickers) and of request validation.
import { z } from 'zod';
import { PATH_VALUE_MAX_LENGTH } from '../path-values.js';

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
    id: z.string().meta({ description: 'The environment id.', 'x-ms-summary': 'Environment Id' }),
    displayName: z.string().meta({ description: 'The name shown in the admin center.', 'x-ms-summary': 'Display Name' }),
    location: z.string().nullable().meta({ description: 'The region, e.g. unitedstates.', 'x-ms-summary': 'Location' }),
    environmentSku: z
      .string()
      .nullable()
      .meta({ description: 'Default, Production, Sandbox, Teams, Developer or Trial.', 'x-ms-summary': 'Type' }),
    hasDataverse: z
      .boolean()
      .meta({ description: 'True when the environment has a Dataverse database (needed to install packages).', 'x-ms-summary': 'Has Dataverse' }),
    dataverseUrl: z
      .string()
      .nullable()
      .meta({ description: 'The Dataverse instance URL, or null without Dataverse.', 'x-ms-summary': 'Dataverse URL' }),
  })
  .meta({ id: 'Environment' });

export const listEnvironmentsQuery = z.object({
  hasDataverse: z
    .stringbool({ error: 'must be true or false' })
    .optional()
    .meta({
      description: 'true: only environments with Dataverse (the ones packages install into); false: only those without.',
      'x-ms-summary': 'Has Dataverse',
      'x-ms-visibility': 'advanced',
    }),
});

export const environmentListSchema = z.object({
  value: z.array(environmentSchema).meta({ description: 'The environments the relay can manage.', 'x-ms-summary': 'Environments' }),
});

export const packageErrorSchema = z
  .object({
    code: z.string().nullable().meta({ description: 'Upstream error code (a number or a hex string, as text).', 'x-ms-summary': 'Error Code' }),
    name: z.string().nullable().meta({ description: 'Upstream error name, e.g. SolutionImportFailed.', 'x-ms-summary': 'Error Name' }),
    message: z.string().nullable().meta({ description: 'What upstream said went wrong.', 'x-ms-summary': 'Error Message' }),
    source: z.string().nullable().meta({ description: 'Where the error came from, e.g. Dataverse.', 'x-ms-summary': 'Error Source' }),
  })
  .meta({ id: 'PackageError' });

export const packageSchema = z
  .object({
    uniqueName: z.string().meta({ description: 'The name installs use, e.g. msdyn_ContosoSurveysAnchor.', 'x-ms-summary': 'Unique Name' }),
    displayName: z.string().meta({ description: 'The localized package name.', 'x-ms-summary': 'Display Name' }),
    version: z.string().nullable().meta({ description: 'The version of this entry.', 'x-ms-summary': 'Version' }),
    publisherName: z.string().nullable().meta({ description: 'The publisher.', 'x-ms-summary': 'Publisher' }),
    description: z.string().nullable().meta({ description: 'The localized description.', 'x-ms-summary': 'Description' }),
    applicationId: z.string().nullable().meta({ description: 'The application id (not usable for installs).', 'x-ms-summary': 'Application Id' }),
    learnMoreUrl: z.string().nullable().meta({ description: 'A page about the package.', 'x-ms-summary': 'Learn More URL' }),
    state: z
      .string()
      .meta({ description: 'Upstream state: None, Installed, InstallRequested, Installing, InstallFailed…', 'x-ms-summary': 'State' }),
    installed: z.boolean().meta({ description: 'True when this version is installed.', 'x-ms-summary': 'Installed' }),
    updateAvailable: z
      .boolean()
      .meta({ description: 'True when a newer version than the installed one is offered.', 'x-ms-summary': 'Update Available' }),
    availableVersion: z
      .string()
      .nullable()
      .meta({ description: 'The newer version offered when an update is available.', 'x-ms-summary': 'Available Version' }),
    error: packageErrorSchema.nullable().meta({ description: 'The last error upstream recorded for the package.', 'x-ms-summary': 'Error' }),
  })
  .meta({ id: 'Package' });

export const packageListSchema = z.object({
  value: z.array(packageSchema).meta({ description: 'The packages, every upstream page included.', 'x-ms-summary': 'Packages' }),
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
    .meta({ description: 'Text to look for in the unique name, display name or publisher.', 'x-ms-summary': 'Search', 'x-ms-visibility': 'advanced' }),
  lcid: z
    .string()
    .regex(/^\d{4,5}$/, { error: 'must be a language id such as 1033' })
    .optional()
    .meta({ description: 'Language id for names and descriptions, e.g. 1033 (English) or 1036 (French).', 'x-ms-summary': 'Language', 'x-ms-visibility': 'advanced' }),
});

export const getPackageQuery = listPackagesQuery.pick({ lcid: true });
