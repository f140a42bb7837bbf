// Power Platform API appmanagement: environment and tenant package lists, install, operation status.
// Errors use the flat {code,message} body observed live.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, ppapiError, type RouteMeta, type SimContext } from './http-common.js';
import type { EnvPackage, PackageInstance } from './installs.js';
import { GUID } from './state.js';
import type { SeedPackage } from './types.js';

const meta = (routeName: RouteMeta['routeName']): { config: RouteMeta } => ({
  config: { routeName, surface: 'ppapi' },
});

type Query = Record<string, string | undefined>;
const INSTALL_STATES = ['All', 'Installed', 'NotInstalled'] as const;

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function texts(def: SeedPackage, lcid: string | undefined) {
  const loc = lcid ? def.localized?.[lcid] : undefined;
  return {
    localizedName: loc?.name ?? def.localizedName,
    localizedDescription: loc?.description ?? def.localizedDescription ?? '',
  };
}

/** The catalog fields both package lists carry (the tenant list has only these). */
function catalogFields(def: SeedPackage, lcid: string | undefined) {
  return {
    uniqueName: def.uniqueName,
    ...texts(def, lcid),
    applicationId: def.applicationId,
    applicationName: def.applicationName ?? def.localizedName,
    applicationDescription: null,
    singlePageApplicationUrl: null,
    publisherName: def.publisherName,
    publisherId: def.publisherId,
    learnMoreUrl: def.learnMoreUrl ?? 'https://go.microsoft.com/fwlink/?linkid=000000',
    catalogVisibility: 'None',
    applicationVisibility: 'All',
  };
}

function commonFields(def: SeedPackage, lcid: string | undefined) {
  return {
    id: def.id,
    ...catalogFields(def, lcid),
    version: def.version,
    crmMinversion: def.crmMinversion ?? '9.0',
    crmMaxVersion: null,
    customHandleUpgrade: false,
    startDateUtc: '2020-01-01T00:00:00Z',
    endDateUtc: '2050-01-01T00:00:00Z',
    supportedCountries: def.supportedCountries ?? ['US', 'GB', 'DE', 'FR', 'NL'],
  };
}

/** Rows of one package: the installed instance (if any) and the catalog offer (when not installed or newer). */
function rows(entry: EnvPackage, lcid: string | undefined): { installed?: object; available?: object } {
  const { def, instance } = entry;
  const installedRow = (inst: PackageInstance) => ({
    ...commonFields(def, lcid),
    version: inst.version,
    instancePackageId: inst.instancePackageId,
    state: inst.state,
    errorDetails: inst.errorDetails,
  });
  const availableRow = () => ({
    ...commonFields(def, lcid),
    instancePackageId: null,
    state: 'None',
    errorDetails: null,
  });
  return {
    installed: instance ? installedRow(instance) : undefined,
    available: !instance || compareVersions(def.version, instance.version) > 0 ? availableRow() : undefined,
  };
}

export function registerPpapi(app: FastifyInstance, ctx: SimContext) {
  const { state } = ctx;

  /** Token and api-version checks every appmanagement call makes. */
  async function guard(
    request: FastifyRequest<{ Querystring: Query }>,
    reply: FastifyReply,
  ): Promise<boolean> {
    if (!(await authenticate(ctx, request, reply, 'ppapi'))) return false;
    if (!request.query['api-version']) {
      ppapiError(
        reply,
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
      return false;
    }
    return true;
  }

  /** The environment must exist and have Dataverse; sends the error otherwise. */
  function dataverseEnvironment(environmentId: string, reply: FastifyReply) {
    const env = state.environment(environmentId);
    if (!env) {
      ppapiError(
        reply,
        404,
        'EnvironmentNotFound',
        `The environment '${environmentId}' was not found in this tenant.`,
      );
      return undefined;
    }
    if (!env.dataverseUrl) {
      ppapiError(
        reply,
        400,
        'DataverseNotFound',
        `The environment '${environmentId}' has no Dataverse database; application packages need one. Add Dataverse to the environment, then try again.`,
      );
      return undefined;
    }
    return env;
  }

  /** One page of `items`, with an absolute @odata.nextLink carrying the other query parameters. */
  function page(request: FastifyRequest<{ Querystring: Query }>, items: object[]) {
    const size = Math.max(1, state.behaviour.pageSize);
    const skip = Math.max(0, Number.parseInt(request.query.$skiptoken ?? '0', 10) || 0);
    const body: { value: object[]; '@odata.nextLink'?: string } = { value: items.slice(skip, skip + size) };
    if (skip + size < items.length) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(request.query))
        if (v !== undefined && k !== '$skiptoken') params.set(k, v);
      params.set('$skiptoken', String(skip + size));
      body['@odata.nextLink'] = `${ctx.origin()}${request.url.split('?')[0]}?${params.toString()}`;
    }
    return body;
  }

  app.get<{ Params: { env: string }; Querystring: Query }>(
    '/appmanagement/environments/:env/applicationPackages',
    meta('ppapi.listPackages'),
    async (request, reply) => {
      if (!(await guard(request, reply))) return reply;
      const env = dataverseEnvironment(request.params.env, reply);
      if (!env) return reply;
      const wanted = request.query.appInstallState ?? 'All';
      const filter = INSTALL_STATES.find((s) => s.toLowerCase() === wanted.toLowerCase());
      if (!filter) {
        return ppapiError(
          reply,
          400,
          'InvalidParameter',
          `appInstallState '${wanted}' is not valid; use All, Installed or NotInstalled.`,
        );
      }
      const items: object[] = [];
      for (const entry of state.installs.packages(env.id)) {
        const r = rows(entry, request.query.lcid);
        if (r.installed && filter !== 'NotInstalled') items.push(r.installed);
        if (r.available && filter !== 'Installed') items.push(r.available);
      }
      return page(request, items);
    },
  );

  app.get<{ Querystring: Query }>(
    '/appmanagement/applicationPackages',
    meta('ppapi.listTenantPackages'),
    async (request, reply) => {
      if (!(await guard(request, reply))) return reply;
      const items = state.seed.packages.map((def) => ({
        ...catalogFields(def, request.query.lcid),
        errorDetails: def.tenantErrorDetails ?? null,
      }));
      return page(request, items);
    },
  );

  app.post<{ Params: { env: string; uniqueName: string }; Querystring: Query }>(
    '/appmanagement/environments/:env/applicationPackages/:uniqueName/install',
    meta('ppapi.install'),
    async (request, reply) => {
      if (!(await guard(request, reply))) return reply;
      const env = dataverseEnvironment(request.params.env, reply);
      if (!env) return reply;
      const name = request.params.uniqueName;
      const offered = state.installs.packages(env.id).some((p) => p.def.uniqueName === name);
      if (!offered)
        return ppapiError(reply, 400, 'BadRequest', 'Package requested for installation was not found');
      const running = state.installs.busy(env.id) ?? state.installs.outsideOperation(env.id);
      if (running) {
        return state.behaviour.busyStatus === 409
          ? ppapiError(
              reply,
              409,
              'Conflict',
              `Another application package operation (${running.id}) is in progress in environment '${env.id}'. Wait for it to finish, then try again.`,
            )
          : ppapiError(reply, 400, 'BadRequest', 'Bad Request');
      }
      const started = state.installs.start(env.id, name)!;
      const { op, entry } = started;
      const createdOn = new Date(op.createdAt).toISOString();
      const emptyText = state.behaviour.installBodyEmptyText === 'null' ? null : '';
      const body = {
        id: op.instancePackageId,
        packageId: entry.def.id,
        packageUniqueName: entry.def.uniqueName,
        packageVersion: op.targetVersion,
        applicationId: entry.def.applicationId,
        applicationName: entry.def.applicationName ?? entry.def.localizedName,
        applicationDescription: emptyText,
        singlePageApplicationUrl: emptyText,
        publisherName: entry.def.publisherName,
        publisherId: entry.def.publisherId,
        localizedDescription: entry.def.localizedDescription ?? emptyText,
        localizedName: entry.def.localizedName,
        learnMoreUrl: entry.def.learnMoreUrl ?? 'https://go.microsoft.com/fwlink/?linkid=000000',
        termsOfServiceBlobUris: [],
        applicationVisibility: 'All',
        lastOperation: {
          state: 'InstallRequested',
          createdOn,
          modifiedOn: null,
          errorDetails: null,
          statusMessage: null,
          instancePackageId: op.instancePackageId,
          operationId: op.id,
        },
        customHandleUpgrade: false,
      };
      const mode = state.behaviour.installResponse;
      if (mode === 'operation-location' || mode === 'operation-location-with-body') {
        reply.header(
          'operation-location',
          `${state.behaviour.operationLocationOrigin || ctx.origin()}/appmanagement/environments/${env.id}/operations/${op.id}?api-version=1`,
        );
      }
      // The real service answers 202 with Operation-Location and no body (terraform's capture);
      // 'bare-202' has neither, so the caller has to find the operation through the package list.
      if (mode === 'operation-location' || mode === 'bare-202') return reply.code(202).send();
      return reply.code(mode === 'body-200' ? 200 : 202).send(body);
    },
  );

  app.get<{ Params: { env: string; operationId: string }; Querystring: Query }>(
    '/appmanagement/environments/:env/operations/:operationId',
    meta('ppapi.operation'),
    async (request, reply) => {
      if (!(await guard(request, reply))) return reply;
      const { env, operationId } = request.params;
      if (!GUID.test(operationId)) {
        return ppapiError(
          reply,
          400,
          'InvalidOperationId',
          `The operation id '${operationId}' is not a valid GUID.`,
        );
      }
      const view = state.installs.operation(state.environment(env)?.id ?? env, operationId);
      if (!view) {
        return ppapiError(
          reply,
          404,
          'OperationNotFound',
          `The operation '${operationId}' was not found in environment '${env}'.`,
        );
      }
      // The captured Succeeded answer has no error key at all (the NotStarted one has error: null).
      if (view.status === 'Succeeded' && state.behaviour.succeededOperationError === 'absent') {
        const { error: _absent, ...rest } = view;
        return rest;
      }
      return view;
    },
  );
}
