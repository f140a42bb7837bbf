// The last known progress of each install operation, kept where every replica can read it. Only
// the replica holding an operation's poller lease asks upstream; it publishes what it learns here
// (and as a change notice), so the others answer their waits and status reads without a status
// call of their own. The progress is opaque JSON to the store: its shape belongs to the installs
// feature. Only shared state (PostgreSQL) has one; one embedded process needs none.

export interface InstallProgressStore {
  publish(key: string, progress: unknown): Promise<void>;
  /** The last published progress, if any. */
  read(key: string): Promise<unknown | undefined>;
}
