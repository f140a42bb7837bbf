// Tests wait for a condition, never for a fixed time: on a busy machine "it has surely happened by
// now" is the assumption that flakes. The check runs every few milliseconds until it holds or the
// (generous) limit passes, and the failure names what was awaited.
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 30_000, everyMs = 10 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
