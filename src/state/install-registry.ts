// The registry of installs in flight, keyed by environment + package. It is what
// makes 50 identical concurrent InstallPackage calls cause one upstream POST: the first caller
// starts the install, everyone else joins it. Behind an interface so a shared engine (Redis,
// PostgreSQL) can back it later for several replicas; the in-process default is below.

/** Stands in for the operation id when upstream shows an install under way but no operation id
 *  can be found: the relay then follows the package's state instead of an operation. */
export const PACKAGE_STATE_OPERATION_ID = '00000000-0000-0000-0000-000000000000';

export interface InstallRecord {
  environmentId: string;
  packageUniqueName: string;
  operationId: string;
  packageVersion: string | null;
  /** ISO time the relay started or joined the install. */
  startedAt: string;
  /** callerLabel of whoever started it, for the logs. */
  startedBy: string;
  /** Upstream's Operation-Location (on the PPAPI host): polled as given, api-version included. */
  operationUrl?: string;
  /**
   * Upstream accepted our install POST without an operation id, so it is followed through the
   * package state, which may lag behind the POST: until the package shows the install under way
   * (or a grace period passes), "nothing under way" means "not listed yet", not Canceled.
   */
  acceptedWithoutOperation?: boolean;
}

export interface InstallRegistry {
  /** The install recorded as running for this environment and package, if any. */
  get(environmentId: string, packageUniqueName: string): Promise<InstallRecord | undefined>;
  /** Finds the record of an operation (for GetInstallStatus without a package name). */
  findByOperation(environmentId: string, operationId: string): Promise<InstallRecord | undefined>;
  /**
   * Runs `start` unless another call for the same key is already running it; every concurrent
   * caller gets the same outcome. `leader` is true for the one caller whose `start` ran.
   */
  startOnce<T>(
    environmentId: string,
    packageUniqueName: string,
    start: () => Promise<T>,
    /**
     * With a registry shared by several replicas, a start on another replica may have finished
     * just before ours got its turn: given this, its recorded install is joined instead of
     * calling `start` again (leader false).
     */
    joinRecorded?: (record: InstallRecord) => T,
  ): Promise<{ value: T; leader: boolean }>;
  put(record: InstallRecord): Promise<void>;
  /** Forgets the install once it has ended (only if the record still names this operation); its
   *  record is then only found through `recall`. */
  complete(environmentId: string, packageUniqueName: string, operationId: string): Promise<void>;
  /**
   * The record of an install this relay started or joined that has since ended, so a status read
   * afterwards still names the package and the version (upstream's operation names neither).
   * `packageUniqueName` tells apart installs followed through the package state (one shared id).
   */
  recall(environmentId: string, operationId: string, packageUniqueName?: string | null): Promise<InstallRecord | undefined>;
}

const keyOf = (environmentId: string, packageUniqueName: string) =>
  `${environmentId.toLowerCase()}\n${packageUniqueName.toLowerCase()}`;

const endedKeyOf = (environmentId: string, operationId: string, packageUniqueName?: string | null) =>
  operationId === PACKAGE_STATE_OPERATION_ID
    ? `${environmentId.toLowerCase()}\n${operationId}\n${(packageUniqueName ?? '').toLowerCase()}`
    : `${environmentId.toLowerCase()}\n${operationId.toLowerCase()}`;

/** Ended installs remembered for status reads; the oldest go first (a few hundred bytes each). */
const MAX_ENDED = 10_000;

export class InMemoryInstallRegistry implements InstallRegistry {
  private readonly records = new Map<string, InstallRecord>();
  private readonly starting = new Map<string, Promise<unknown>>();
  /** Insertion order is age order, so the first key is the oldest. */
  private readonly ended = new Map<string, InstallRecord>();

  constructor(
    /** Records older than this are ignored: the install deadline has passed, upstream state decides. */
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  async get(environmentId: string, packageUniqueName: string) {
    const key = keyOf(environmentId, packageUniqueName);
    const record = this.records.get(key);
    if (record && this.now() - Date.parse(record.startedAt) > this.maxAgeMs) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  async findByOperation(environmentId: string, operationId: string) {
    const env = environmentId.toLowerCase();
    for (const r of this.records.values()) {
      if (r.environmentId.toLowerCase() === env && r.operationId.toLowerCase() === operationId.toLowerCase()) return r;
    }
    return undefined;
  }

  async startOnce<T>(environmentId: string, packageUniqueName: string, start: () => Promise<T>) {
    const key = keyOf(environmentId, packageUniqueName);
    const running = this.starting.get(key) as Promise<T> | undefined;
    if (running) return { value: await running, leader: false };
    const p = start().finally(() => this.starting.delete(key));
    this.starting.set(key, p);
    return { value: await p, leader: true };
  }

  async put(record: InstallRecord) {
    this.records.set(keyOf(record.environmentId, record.packageUniqueName), record);
  }

  async complete(environmentId: string, packageUniqueName: string, operationId: string) {
    const key = keyOf(environmentId, packageUniqueName);
    const record = this.records.get(key);
    if (record?.operationId !== operationId) return;
    this.records.delete(key);
    const endedKey = endedKeyOf(environmentId, operationId, packageUniqueName);
    this.ended.delete(endedKey);
    this.ended.set(endedKey, record);
    if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.keys().next().value as string);
  }

  async recall(environmentId: string, operationId: string, packageUniqueName?: string | null) {
    const record = this.ended.get(endedKeyOf(environmentId, operationId, packageUniqueName));
    if (!record) return undefined;
    // Asked with another package name than the install had: not this install.
    if (packageUniqueName && record.packageUniqueName.toLowerCase() !== packageUniqueName.toLowerCase()) return undefined;
    return record;
  }
}
