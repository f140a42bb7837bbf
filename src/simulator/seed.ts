// The built-in demo catalog (made-up ids) and loading a seed from a JSON file.
// docs/simulator.md has the table of what each package does; keep the two in step.
import { readFileSync } from 'node:fs';
import type { SeedPackage, SimulatorSeed } from './types.js';

/** The demo tenants' ids, exported like DEMO_ENVIRONMENTS so tests name them instead of copying them. */
export const DEMO_TENANTS = {
  contoso: '7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f',
  fabrikam: '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3',
  northwind: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
  woodgrove: 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e',
} as const;
const { contoso: CONTOSO, fabrikam: FABRIKAM, northwind: NORTHWIND, woodgrove: WOODGROVE } = DEMO_TENANTS;

export const DEMO_ENVIRONMENTS = {
  default: 'Default-7c3d9f2a-0b1e-4c5d-8e6f-9a0b1c2d3e4f',
  sales: '3f2e1d0c-9b8a-4776-a554-433221100ffe',
  teams: '8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d',
} as const;

const PUBLISHER_D365 = {
  publisherName: 'Microsoft Dynamics 365',
  publisherId: '11112222-3333-4444-5555-666677778888',
};
const PUBLISHER_CONTOSO = {
  publisherName: 'Contoso Ltd',
  publisherId: '99990000-aaaa-4bbb-8ccc-ddddeeeeffff',
};

const packages: SeedPackage[] = [
  {
    id: '5d1f0c3e-8a47-4b61-9a2e-0f6b1c2d3e4f',
    uniqueName: 'msdyn_ContosoSurveysAnchor',
    version: '3.1.0.12',
    localizedName: 'Contoso Surveys',
    localizedDescription: 'Collect structured feedback from customers.',
    applicationId: 'a9b8c7d6-e5f4-4321-8765-0fedcba98765',
    ...PUBLISHER_D365,
    crmMinversion: '9.2',
    install: { outcome: 'Succeeded', seconds: 5 },
    localized: { '1036': { name: 'Enquêtes Contoso', description: 'Recueillir des avis structurés.' } },
  },
  {
    id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    uniqueName: 'msdyn_FieldInspectionsAnchor',
    version: '1.4.2.3',
    localizedName: 'Field Inspections',
    localizedDescription: 'Plan and record site inspections on mobile devices.',
    applicationId: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f',
    ...PUBLISHER_D365,
    crmMinversion: '9.1',
    install: { outcome: 'Succeeded', seconds: 4 },
  },
  {
    id: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
    uniqueName: 'ContosoExpenseApprovals',
    version: '2.0.0.45',
    localizedName: 'Expense Approvals',
    localizedDescription: 'Route expense reports to approvers with Teams notifications.',
    applicationId: 'd2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a',
    ...PUBLISHER_CONTOSO,
    crmMinversion: '9.2',
    install: { outcome: 'Succeeded', seconds: 6 },
  },
  {
    id: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
    uniqueName: 'msdyn_SalesInsightsAddOn',
    version: '4.0.1.7',
    localizedName: 'Sales Insights Add-on',
    localizedDescription: 'Predictive scoring for opportunities. Needs the Dynamics 365 base solution.',
    applicationId: 'e3f4a5b6-c7d8-4e9f-8a1b-2c3d4e5f6a7b',
    ...PUBLISHER_D365,
    crmMinversion: '9.2',
    install: {
      outcome: 'Failed',
      seconds: 4,
      statusMessage: 'Installation failed',
      error: {
        errorCode: -2147188475,
        errorName: 'SolutionImportFailed',
        message: 'Missing dependency msdyn_Base',
        source: 'Dataverse',
        statusCode: 400,
        type: 'InstallException',
      },
    },
  },
  {
    id: '3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f7a',
    uniqueName: 'msdyn_PortalMigrationTool',
    version: '1.0.3.1',
    localizedName: 'Portal Migration Tool',
    localizedDescription: 'Moves legacy portal configuration; the service cancels it during maintenance.',
    applicationId: 'f4a5b6c7-d8e9-4f0a-9b2c-3d4e5f6a7b8c',
    ...PUBLISHER_D365,
    install: { outcome: 'Canceled', seconds: 3, statusMessage: 'Canceled by the service' },
  },
  {
    id: '4e5f6a7b-8c9d-4e0f-9a2b-3c4d5e6f7a8b',
    uniqueName: 'MicrosoftFormsPro',
    version: '1.0.2.0',
    localizedName: 'Dynamics 365 Customer Voice',
    localizedDescription: 'Surveys for Dynamics 365.',
    applicationId: 'a5b6c7d8-e9f0-4a1b-8c3d-4e5f6a7b8c9d',
    ...PUBLISHER_D365,
    installed: { version: '1.0.2.0' },
  },
  {
    id: '5f6a7b8c-9d0e-4f1a-8b3c-4d5e6f7a8b9c',
    uniqueName: 'msdyn_AppDeploymentAnchor',
    version: '2.1.0.8',
    localizedName: 'App Deployment',
    localizedDescription: 'Deploy packaged apps across environments.',
    applicationId: 'b6c7d8e9-f0a1-4b2c-9d4e-5f6a7b8c9d0e',
    ...PUBLISHER_D365,
    installed: { version: '2.0.0.3' },
    install: { outcome: 'Succeeded', seconds: 5 },
  },
  {
    id: '6a7b8c9d-0e1f-4a2b-9c4d-5e6f7a8b9c0d',
    uniqueName: 'msdyn_RetiredKioskAnchor',
    version: '0.9.0.1',
    localizedName: 'Retired Kiosk',
    localizedDescription: 'No longer offered in any region.',
    applicationId: 'c7d8e9f0-a1b2-4c3d-8e5f-6a7b8c9d0e1f',
    ...PUBLISHER_D365,
    environments: [],
    tenantErrorDetails: {
      errorCode: '0x80040216',
      errorName: 'ApplicationNotVisible',
      message: 'The solution is not visible in the catalog.',
      source: 'Dataverse',
      statusCode: 404,
      type: 'ApplicationNotVisibleException',
    },
  },
];

export function defaultSeed(): SimulatorSeed {
  return {
    tenantId: CONTOSO,
    tenantDisplayName: 'Contoso',
    tenantDomains: ['contoso.onmicrosoft.com', 'contoso.com'],
    otherTenants: [
      { tenantId: FABRIKAM, domains: ['fabrikam.onmicrosoft.com', 'fabrikam.com'], displayName: 'Fabrikam' },
      { tenantId: NORTHWIND, domains: ['northwind.onmicrosoft.com'], displayName: 'Northwind Traders' },
      { tenantId: WOODGROVE, domains: ['woodgrove.onmicrosoft.com'], displayName: 'Woodgrove Bank' },
    ],
    relayApp: {
      clientId: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
      clientSecret: 'sim-secret-Contoso~Relay.0001',
    },
    environments: [
      {
        id: DEMO_ENVIRONMENTS.default,
        displayName: 'Contoso (default)',
        location: 'unitedstates',
        environmentSku: 'Default',
        isDefault: true,
        dataverseUrl: 'https://contoso.crm.dynamics.com/',
      },
      {
        id: DEMO_ENVIRONMENTS.sales,
        displayName: 'Contoso Sales',
        location: 'unitedstates',
        environmentSku: 'Production',
        dataverseUrl: 'https://contososales.crm.dynamics.com/',
      },
      {
        id: DEMO_ENVIRONMENTS.teams,
        displayName: 'Contoso Teams',
        location: 'europe',
        environmentSku: 'Teams',
      },
    ],
    packages: structuredClone(packages),
    isolationPolicy: {
      properties: {
        tenantId: CONTOSO,
        isDisabled: false,
        allowedTenants: [
          {
            tenantId: FABRIKAM,
            tenantDisplayName: 'Fabrikam',
            direction: { inbound: true, outbound: false },
          },
          { tenantId: NORTHWIND, tenantDisplayName: '', direction: { inbound: false, outbound: false } },
          { tenantId: '*', direction: { inbound: false, outbound: true } },
        ],
      },
    },
  };
}

/** Reads a seed file (SIMULATOR_SEED). Missing top-level keys fall back to the demo catalog's. */
export function loadSeedFile(path: string): SimulatorSeed {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Simulator seed file ${path} could not be read as JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`Simulator seed file ${path} must hold a JSON object (see docs/simulator.md).`);
  }
  return validateSeed({ ...defaultSeed(), ...(parsed as Partial<SimulatorSeed>) }, path);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Catches the seed mistakes that would otherwise surface as a TypeError deep inside a request. */
export function validateSeed(seed: SimulatorSeed, source = 'the seed'): SimulatorSeed {
  const fail = (what: string) => {
    throw new Error(`Simulator seed (${source}): ${what}. See docs/simulator.md for the format.`);
  };
  if (typeof seed.tenantId !== 'string' || !GUID.test(seed.tenantId)) fail('tenantId must be a GUID');
  if (!Array.isArray(seed.tenantDomains)) fail('tenantDomains must be a list of domain names');
  if (!Array.isArray(seed.otherTenants))
    fail('otherTenants must be a list of {tenantId, domains, displayName}');
  for (const t of seed.otherTenants) {
    if (typeof t?.tenantId !== 'string' || !GUID.test(t.tenantId) || !Array.isArray(t.domains)) {
      fail('every otherTenants entry needs a GUID tenantId and a domains list');
    }
  }
  if (typeof seed.relayApp?.clientId !== 'string' || typeof seed.relayApp?.clientSecret !== 'string') {
    fail('relayApp needs clientId and clientSecret strings');
  }
  if (!Array.isArray(seed.environments)) fail('environments must be a list');
  for (const e of seed.environments) {
    if (typeof e?.id !== 'string' || typeof e.displayName !== 'string')
      fail('every environment needs id and displayName');
  }
  if (!Array.isArray(seed.packages)) fail('packages must be a list');
  for (const p of seed.packages) {
    for (const key of [
      'id',
      'uniqueName',
      'version',
      'localizedName',
      'applicationId',
      'publisherName',
      'publisherId',
    ] as const) {
      if (typeof p?.[key] !== 'string') fail(`package ${p?.uniqueName ?? '?'} needs a string ${key}`);
    }
    for (const envId of p.environments ?? []) {
      if (!seed.environments.some((e) => e.id.toLowerCase() === String(envId).toLowerCase())) {
        fail(`package ${p.uniqueName} lists environment '${envId}', which is not in environments`);
      }
    }
    const outcome = p.install?.outcome;
    if (outcome !== undefined && !['Succeeded', 'Failed', 'Canceled'].includes(outcome)) {
      fail(`package ${p.uniqueName}: install.outcome must be Succeeded, Failed or Canceled`);
    }
  }
  if (seed.faults !== undefined && !Array.isArray(seed.faults)) fail('faults must be a list of fault specs');
  return seed;
}
