// Install a package and wait: starting (install-starter.ts: pre-checks, start-or-join, one POST at
// most) and following (install-follower.ts: progress from one shared poller per operation). The
// routes turn what this returns into 200/202/422 answers.
import type { CallContext } from '../upstream/types.js';
import { InstallFollower } from './install-follower.js';
import type { InstallServiceDeps, InstallStart, InstallView, ProgressOptions } from './install-service-deps.js';
import { InstallStarter } from './install-starter.js';

export type { InstallLog, InstallServiceDeps, InstallStart, InstallView, ProgressOptions } from './install-service-deps.js';

export class InstallService {
  private readonly starter: InstallStarter;
  private readonly follower: InstallFollower;

  constructor(private readonly d: InstallServiceDeps) {
    this.starter = new InstallStarter(d);
    this.follower = new InstallFollower(d);
  }

  /** Start the install, or join the one already running (here or upstream). */
  start(environmentId: string, given: string, callerLabel: string, ctx: CallContext): Promise<InstallStart> {
    return this.starter.start(environmentId, given, callerLabel, ctx);
  }

  /** Progress of an operation; holds up to waitMs for it to end (long poll). */
  progress(
    environmentId: string,
    operationId: string,
    ids: { packageUniqueName: string | null; packageVersion: string | null },
    waitMs: number,
    options: ProgressOptions = {},
  ): Promise<InstallView> {
    return this.follower.progress(environmentId, operationId, ids, waitMs, options);
  }

  /** Requests held open right now, across all operations. */
  get waiting(): number {
    return this.d.pollers.waiting;
  }
}
