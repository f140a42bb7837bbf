// The relay's single error shape: {"error": {code, message, target?, details?, upstreamStatus?, correlationId}}.
// Services throw RelayError with a sentence an admin can act on; the error handler (error-handler.ts)
// turns it, validation failures and UpstreamError into that shape.
export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: {
      target?: string;
      details?: unknown;
      upstreamStatus?: number;
      /** Seconds; sent as Retry-After. */
      retryAfter?: number;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: unknown;
    upstreamStatus?: number;
    correlationId: string;
  };
}
