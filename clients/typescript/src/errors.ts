// Typed errors: every failure of a call is an MlError, except a call the caller aborted with
// its own `signal` (that rejects with the signal's reason, as fetch does). `serverFailure`
// tells a failed or unreachable server (worth a fallback, counted by the breaker) from a
// refused request (the caller's to fix: `errorType` and `field` say what).

export abstract class MlError extends Error {
  /** The route's pattern (`/predict/credit-risk`). */
  readonly route: string;
  /** The server failed or could not be reached (5xx, timeout, connection, open circuit). */
  abstract readonly serverFailure: boolean;
  constructor(route: string, message: string) {
    super(`${route}: ${message}`);
    this.name = new.target.name;
    this.route = route;
  }
}

/** The server's error body: `{error, error_type, field?}`. */
export interface ErrorBody {
  error: string;
  error_type: string;
  field?: string | null;
}

/** The server answered with an error status. */
export class MlApiError extends MlError {
  readonly status: number;
  /** `validation_error`, `rate_limited`, `unavailable`, … */
  readonly errorType: string;
  /** The refused field (`applicant_data.age`, `inputs[3].query`), when one value was refused. */
  readonly field: string | undefined;
  /** The server's `Retry-After`, milliseconds. */
  readonly retryAfterMs: number | undefined;
  readonly body: ErrorBody;
  constructor(route: string, status: number, body: ErrorBody, retryAfterMs?: number) {
    super(route, `HTTP ${status} ${body.error_type}: ${body.error}`);
    this.status = status;
    this.errorType = body.error_type;
    this.field = body.field ?? undefined;
    this.retryAfterMs = retryAfterMs;
    this.body = body;
  }
  get serverFailure(): boolean {
    return this.status >= 500;
  }
}

/** No answer within the timeout. */
export class MlTimeoutError extends MlError {
  readonly serverFailure = true;
  readonly timeoutMs: number;
  constructor(route: string, timeoutMs: number) {
    super(route, `no answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The connection failed (refused, reset, DNS). */
export class MlConnectionError extends MlError {
  readonly serverFailure = true;
  constructor(route: string, cause: unknown) {
    super(route, `connection failed: ${cause instanceof Error ? (cause.cause ?? cause.message) : String(cause)}`);
    this.cause = cause;
  }
}

/** The route's circuit breaker is open: the call was not made. */
export class MlCircuitOpenError extends MlError {
  readonly serverFailure = true;
  constructor(route: string) {
    super(route, "circuit open, call not made");
  }
}

/** The answer was not the JSON the route promises. */
export class MlDecodeError extends MlError {
  readonly serverFailure = false;
}
