// A pino logger that keeps what it writes, so a test can read the relay's log: as one text (to
// search for a secret that must not be there) or as parsed lines (to find an event).
import { Writable } from 'node:stream';
import pino, { type Logger, type LoggerOptions } from 'pino';

export interface CapturedLogs {
  logger: Logger;
  /** Everything written so far, as written. */
  text(): string;
  /** Everything written so far, one parsed object per line. */
  lines<T = Record<string, unknown>>(): T[];
  clear(): void;
}

export function captureLogs(options: LoggerOptions): CapturedLogs {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    logger: pino(options, sink),
    text,
    lines: <T>() =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as T),
    clear: () => {
      chunks.length = 0;
    },
  };
}
