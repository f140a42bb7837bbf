// CheckIsolationPolicy (drift report, no write) and EnsureIsolationPolicy (close exactly that drift
// in one verified write through the change writer).
import { callContext } from '../http/call-context.js';
import { callerLabel } from '../http/caller.js';
import type { RelayApp } from '../http/relay-app.js';
import { checkAnswer, checkBody, ensureBody } from './desired-state-schemas.js';
import type { IsolationService } from './isolation-service.js';
import { isolationBodyWriteErrors, isolationCheckErrors } from './route-errors.js';
import { TAGS, writeAnswer } from './schemas.js';

export function registerDesiredStateRoutes(app: RelayApp, isolation: IsolationService): void {
  app.post(
    '/v1/tenant-isolation/check',
    {
      config: { permission: 'isolation.read' },
      schema: {
        operationId: 'CheckIsolationPolicy',
        summary: 'Check the isolation policy against a desired state',
        description:
          'Compares the policy with rules to include, tenants to exclude or an exact rule set, and the enabled flag; reports each difference (missing, extra, wrong direction, enabled mismatch) and whether it is compliant. Writes nothing.',
        tags: TAGS,
        body: checkBody,
        response: { 200: checkAnswer },
        errors: isolationCheckErrors,
      },
    },
    async (request) => isolation.checkPolicy(request.body, callContext(request)),
  );

  app.post(
    '/v1/tenant-isolation/ensure',
    {
      config: { permission: 'isolation.write' },
      schema: {
        operationId: 'EnsureIsolationPolicy',
        summary: 'Bring the isolation policy to a desired state',
        description:
          'Applies exactly what Check reports, in one verified write (nothing when already compliant). An exact rule set that removes rules needs Confirm removals; use Dry run to see the change first.',
        tags: TAGS,
        body: ensureBody,
        response: { 200: writeAnswer },
        errors: isolationBodyWriteErrors,
      },
    },
    async (request) => {
      const { include, exclude, exact, enabled, ...options } = request.body;
      const desired = {
        ...(include && { include }),
        ...(exclude && { exclude }),
        ...(exact && { exact }),
        ...(enabled !== undefined && { enabled }),
      };
      return isolation.ensurePolicy(desired, options, { call: callContext(request), actor: callerLabel(request.caller) });
    },
  );
}
