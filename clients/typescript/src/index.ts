export { MlClient } from "./client.js";
export type { BreakerOptions, BreakerState, CallOptions, MlClientOptions, MlEvent, RetryOptions } from "./client.js";
export {
  MlApiError,
  MlCircuitOpenError,
  MlConnectionError,
  MlDecodeError,
  MlError,
  MlTimeoutError,
} from "./errors.js";
export type { ErrorBody } from "./errors.js";
export * from "./types.js";
