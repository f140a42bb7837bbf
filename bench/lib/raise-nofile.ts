// 10,000 held connections need as many file descriptors in this process and in the relay: re-run
// the current script under a raised limit (up to the hard limit) once, then exit with its status.
import { spawnSync } from 'node:child_process';

export function reRunWithRaisedFileLimit(): void {
  if (process.env.BENCH_NOFILE_RAISED) return;
  const self = process.argv
    .slice(1)
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(' ');
  const r = spawnSync(
    'bash',
    ['-c', `ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" --import tsx ${self}`],
    { stdio: 'inherit', env: { ...process.env, BENCH_NOFILE_RAISED: '1' } },
  );
  process.exit(r.status ?? 1);
}
