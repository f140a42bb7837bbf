// The connector package files other than the definition: apiProperties.json for each sign-in
// variant, settings.json for paconn, and the brand colour the icon is drawn in. The committed
// files under connector/ are these functions' output with placeholders (checked by a test);
// `npm run connector` writes them with real values.
import type { ConnectorAuth } from '../src/connector-definition/openapi.js';

/** Not a reserved colour (#ffffff, #007ee5); connector/icon.png is drawn in it. */
export const CONNECTOR_BRAND_COLOR = '#0e7469';

/** Placeholders in the committed apiProperties.json; `npm run connector -- --client-id … --resource-uri …` replaces them. */
export const PLACEHOLDER_CLIENT_ID = '00000000-0000-0000-0000-000000000000';
export const PLACEHOLDER_RESOURCE_URI = 'api://admin-relay';

export interface EntraAppSettings {
  /** Application (client) id of the connector's own Entra app registration. */
  clientId: string;
  /** Application ID URI of the relay's Entra app registration (its ENTRA_AUDIENCE). */
  resourceUri: string;
}

export function apiProperties(
  auth: Exclude<ConnectorAuth, 'none'>,
  entra: EntraAppSettings = { clientId: PLACEHOLDER_CLIENT_ID, resourceUri: PLACEHOLDER_RESOURCE_URI },
) {
  const connectionParameters =
    auth === 'apikey'
      ? {
          api_key: {
            type: 'securestring',
            uiDefinition: {
              displayName: 'API key',
              description: 'An Admin Relay API key with the permissions this connection needs.',
              tooltip: 'Ask the relay operator for a key (API_KEYS); it is sent as the X-API-Key header.',
              constraints: { tabIndex: 2, clearText: false, required: 'true' },
            },
          },
        }
      : {
          token: {
            type: 'oauthSetting',
            oAuthSettings: {
              identityProvider: 'aad',
              clientId: entra.clientId,
              scopes: [],
              // Each connector gets its own redirect URL (shown on its Security tab after creation);
              // register that URL on the connector's Entra app.
              redirectMode: 'GlobalPerConnector',
              properties: { IsFirstParty: 'False', AzureActiveDirectoryResourceId: entra.resourceUri },
              customParameters: {
                loginUri: { value: 'https://login.microsoftonline.com' },
                tenantId: { value: 'common' },
                resourceUri: { value: entra.resourceUri },
              },
            },
            uiDefinition: {
              displayName: 'Sign in with Microsoft Entra ID',
              description:
                'Sign in as a Power Platform administrator who holds the relay permissions the flow needs.',
              tooltip:
                'The relay checks your app roles: packages.read, packages.install, isolation.read, isolation.write.',
              constraints: { required: 'true' },
            },
          },
        };
  return {
    properties: {
      connectionParameters,
      // The gateway rewrites the relay's nextLink into a connector URL, so the flow engine's
      // pagination follows it with the connection's sign-in.
      policyTemplateInstances: [
        {
          templateId: 'updatenextlink',
          title: 'Update nextLink to make paging work',
          parameters: {
            'x-ms-apimTemplate-operationName': ['ListIsolationChanges'],
            'x-ms-apimTemplateParameter.nextLinkPropertyName': 'nextLink',
          },
        },
      ],
      iconBrandColor: CONNECTOR_BRAND_COLOR,
      capabilities: ['actions'],
      publisher: 'Admin Relay maintainers',
    },
  };
}

/** settings.json for paconn; paths are relative to the settings file. */
export function paconnSettings(apiDefinitionPath: string) {
  return {
    apiDefinition: apiDefinitionPath,
    apiProperties: 'apiProperties.json',
    icon: 'icon.png',
    powerAppsUrl: 'https://api.powerapps.com',
    powerAppsApiVersion: '2016-11-01',
  };
}

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
