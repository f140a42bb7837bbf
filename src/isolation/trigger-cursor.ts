// The polling trigger's cursor, as it travels in Location: the revision the flow last saw and when
// it was read. Small on purpose; the policy itself sits in the trigger snapshot store under that
// revision. A cursor a caller edited or truncated is refused with a 400 rather than guessed at.
import { RelayError } from '../errors.js';

export interface TriggerCursor {
  /** The policy revision the previous poll ended at. */
  revision: string;
  /** Epoch ms of the upstream read that saw it. */
  readAt: number;
}

export function encodeCursor(cursor: TriggerCursor): string {
  return Buffer.from(JSON.stringify({ r: cursor.revision, t: cursor.readAt })).toString('base64url');
}

export function decodeCursor(token: string): TriggerCursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { r?: unknown; t?: unknown };
    if (typeof parsed.r === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(parsed.r) && Number.isSafeInteger(parsed.t))
      return { revision: parsed.r, readAt: parsed.t as number };
  } catch {
    // fall through to the refusal
  }
  throw new RelayError(
    400,
    'InvalidTriggerCursor',
    'The trigger cursor is not one this relay issued (it may have been edited or cut short). Poll the trigger without a cursor to start again from the current policy.',
    { target: 'querystring.cursor' },
  );
}
