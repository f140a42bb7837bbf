// Signed, expiring tokens for wait URLs. Power Automate may poll Location without the
// connection's credentials, so the URL itself carries proof: an HMAC over the exact path and an
// expiry, keyed by WAIT_URL_SECRET (shared by all replicas). It authorizes a GET of that one path.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface WaitUrlSigner {
  /** Returns the value for the `sig` query parameter. */
  sign(path: string, now: number): string;
  /** 'ok', or why it is refused. */
  verify(path: string, sig: string, now: number): 'ok' | 'malformed' | 'expired' | 'mismatch';
}

export function createWaitUrlSigner(secret: string, ttlMs: number): WaitUrlSigner {
  const mac = (path: string, exp: number) =>
    createHmac('sha256', secret).update(`GET\n${path}\n${exp}`).digest('base64url');
  return {
    sign(path, now) {
      const exp = Math.floor((now + ttlMs) / 1000);
      return `${exp}.${mac(path, exp)}`;
    },
    verify(path, sig, now) {
      // Only the form sign() writes: a changed spelling of the same expiry (leading zeros) must be
      // refused like any other change to the URL, not accepted because it means the same number.
      const m = /^([1-9]\d{0,11})\.([A-Za-z0-9_-]{43})$/.exec(sig);
      if (!m) return 'malformed';
      const exp = Number(m[1]);
      const expected = Buffer.from(mac(path, exp));
      const given = Buffer.from(m[2]!);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'mismatch';
      if (exp * 1000 < now) return 'expired';
      return 'ok';
    },
  };
}
