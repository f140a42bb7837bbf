// One typed error for every upstream failure, whatever shape upstream answered with.
export type UpstreamSurface = 'ppapi' | 'bap' | 'entra';

/** Each surface as an admin reads it in a message. */
export const SURFACE_NAMES: Record<UpstreamSurface, string> = {
  ppapi: 'Power Platform API',
  bap: 'Power Platform admin API (BAP)',
  entra: 'Entra ID',
};
export type UpstreamErrorKind =
  | 'http' // upstream answered with an error status
  | 'network' // connection refused/reset, TLS failure
  | 'timeout' // connect/headers/body timeout
  | 'deadline' // retries stopped because the call's deadline passed
  | 'token'; // a token could not be had

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly surface: UpstreamSurface,
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly details: {
      status?: number;
      code?: string;
      upstreamMessage?: string;
      correlationId?: string;
      retryAfterSeconds?: number;
      /** Extra error details from upstream (BAP `details`, ErrorDetails fields). */
      extra?: unknown;
    } = {},
  ) {
    super(message);
  }
  get status(): number | undefined {
    return this.details.status;
  }
  get code(): string | undefined {
    return this.details.code;
  }
}
