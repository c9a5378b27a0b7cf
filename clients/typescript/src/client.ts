// The nivesh-ml client: fetch with a timeout per attempt (AbortSignal), retries with full-
// jitter exponential backoff honouring Retry-After, a circuit breaker per route (cockatiel),
// typed errors (errors.ts) and events for metrics. The same rules as the Rust client
// (crates/client): idempotent calls (predictions, reads, feedback) are retried after a lost
// connection, a timeout, 429, 502, 503 or 504; admin calls only after 429 or 503.
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  circuitBreaker,
  handleWhen,
} from "cockatiel";
import {
  type ErrorBody,
  MlApiError,
  MlCircuitOpenError,
  MlConnectionError,
  MlDecodeError,
  MlError,
  MlTimeoutError,
} from "./errors.js";
import {
  type AnomalyAnswer,
  type AnomalyRequest,
  type AnswerOf,
  type BatchAnswerOf,
  type CreditAnswer,
  type CreditRequest,
  type DriftReport,
  type FeedbackRecorded,
  type FeedbackRequest,
  type HealthResponse,
  type IntentAnswer,
  type IntentRequest,
  type ModelName,
  type ModelsResponse,
  type NerAnswer,
  type NerRequest,
  type OnlineFeaturesRequest,
  type OnlineFeaturesResponse,
  type Performance,
  type ReloadResponse,
  type RequestOf,
  ROUTES,
  type SpendingAnswer,
  type SpendingRequest,
  type StatisticsResponse,
} from "./types.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0: none). */
  maxRetries?: number;
  /** The first backoff's cap, ms (default 100); doubles per retry up to `maxDelayMs` (2000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The longest Retry-After waited for, ms (default 10000); a longer one ends the retries. */
  maxRetryAfterMs?: number;
}

export interface BreakerOptions {
  /** Open after this many server failures in a row (default 5). */
  consecutiveFailures?: number;
  /** Stay open this long, ms, then let one probe through (default 10000). */
  halfOpenAfterMs?: number;
}

export type BreakerState = "closed" | "open" | "half-open" | "isolated";

/** What the client tells `onEvent`, for metrics and logs. `route` is the route's pattern. */
export type MlEvent =
  | { type: "attempt"; route: string; attempt: number }
  | { type: "response"; route: string; status?: number; outcome: "ok" | "error" | "timeout" | "connection"; elapsedMs: number }
  | { type: "retry"; route: string; attempt: number; delayMs: number }
  | { type: "breaker"; route: string; state: BreakerState }
  | { type: "rejected"; route: string };

export interface MlClientOptions {
  /** `http://nivesh-ml:8000` */
  baseUrl: string;
  /** Sent as `X-API-Key`. */
  apiKey?: string;
  /** Per attempt, ms (default 10000). */
  timeoutMs?: number;
  retry?: RetryOptions;
  breaker?: BreakerOptions;
  onEvent?: (event: MlEvent) => void;
  /** Another fetch (tests, instrumentation); default the global one. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** This call's timeout per attempt, ms. */
  timeoutMs?: number;
  /** Abort the call (and its retries). */
  signal?: AbortSignal;
  /** This call's retries. */
  maxRetries?: number;
}

const STATE: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "isolated",
};

/** Wait `ms`, or until `signal` aborts (its listener removed either way). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export class MlClient {
  private readonly base: string;
  private readonly opts: Required<Pick<MlClientOptions, "timeoutMs">> & MlClientOptions;
  private readonly retry: Required<RetryOptions>;
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly doFetch: typeof fetch;

  constructor(options: MlClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError(`baseUrl ${JSON.stringify(options.baseUrl)}: expected http://… or https://…`);
    }
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.opts = { timeoutMs: 10_000, ...options };
    this.retry = { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 10_000, ...options.retry };
    this.doFetch = options.fetch ?? fetch;
  }

  /** Where a route's breaker stands (`closed` for a route not called yet). */
  breakerState(route: string): BreakerState {
    const b = this.breakers.get(route);
    return b ? STATE[b.state] : "closed";
  }

  private breaker(route: string): CircuitBreakerPolicy {
    let b = this.breakers.get(route);
    if (!b) {
      b = circuitBreaker(
        handleWhen((e) => e instanceof MlError && e.serverFailure),
        {
          halfOpenAfter: this.opts.breaker?.halfOpenAfterMs ?? 10_000,
          breaker: new ConsecutiveBreaker(this.opts.breaker?.consecutiveFailures ?? 5),
        },
      );
      b.onStateChange((s) => this.emit({ type: "breaker", route, state: STATE[s] }));
      this.breakers.set(route, b);
    }
    return b;
  }

  private emit(e: MlEvent) {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // a listener's failure is not the call's
    }
  }

  /** One attempt: the parsed JSON answer, or a typed error. */
  private async attempt<T>(method: string, route: string, path: string, body: string | undefined, call: CallOptions): Promise<T> {
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([timeout, call.signal]) : timeout;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.opts.apiKey) headers["X-API-Key"] = this.opts.apiKey;
    const started = performance.now();
    let res: Response;
    let text: string;
    try {
      res = await this.doFetch(`${this.base}${path}`, { method, headers, body, signal });
      text = await res.text();
    } catch (e) {
      const elapsedMs = performance.now() - started;
      if (call.signal?.aborted) throw e;
      if (timeout.aborted) {
        this.emit({ type: "response", route, outcome: "timeout", elapsedMs });
        throw new MlTimeoutError(route, timeoutMs);
      }
      this.emit({ type: "response", route, outcome: "connection", elapsedMs });
      throw new MlConnectionError(route, e);
    }
    const elapsedMs = performance.now() - started;
    this.emit({ type: "response", route, status: res.status, outcome: res.ok ? "ok" : "error", elapsedMs });
    if (!res.ok) {
      let parsed: ErrorBody;
      try {
        parsed = JSON.parse(text) as ErrorBody;
        if (typeof parsed.error_type !== "string") throw new Error("not an error body");
      } catch {
        parsed = { error: text.slice(0, 200), error_type: "http_error" };
      }
      const retryAfter = Number(res.headers.get("retry-after"));
      throw new MlApiError(route, res.status, parsed, Number.isFinite(retryAfter) && retryAfter >= 0 && res.headers.has("retry-after") ? retryAfter * 1000 : undefined);
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new MlDecodeError(route, `unreadable answer: ${String(e)}`);
    }
  }

  /** A call with the route's breaker and the retries. */
  private async call<T>(
    method: "GET" | "POST",
    route: string,
    path: string,
    body: unknown,
    idempotent: boolean,
    call: CallOptions = {},
  ): Promise<T> {
    const json = body === undefined ? undefined : JSON.stringify(body);
    const breaker = this.breaker(route);
    const maxRetries = call.maxRetries ?? this.retry.maxRetries;
    for (let attempt = 0; ; attempt++) {
      let error: unknown;
      // half-open: cockatiel lets one probe through and makes the other callers wait for it;
      // they fail fast instead, as while open (and as the Rust client does)
      if (breaker.state === CircuitState.HalfOpen) {
        this.emit({ type: "rejected", route });
        throw new MlCircuitOpenError(route);
      }
      try {
        this.emit({ type: "attempt", route, attempt });
        return await breaker.execute(() => this.attempt<T>(method, route, path, json, call));
      } catch (e) {
        if (e instanceof BrokenCircuitError || e instanceof IsolatedCircuitError) {
          this.emit({ type: "rejected", route });
          throw new MlCircuitOpenError(route);
        }
        error = e;
      }
      const retryable =
        (error instanceof MlApiError &&
          (idempotent ? [429, 502, 503, 504] : [429, 503]).includes(error.status)) ||
        (idempotent && (error instanceof MlTimeoutError || error instanceof MlConnectionError));
      if (!retryable || attempt >= maxRetries || call.signal?.aborted) throw error;
      let delayMs: number;
      if (error instanceof MlApiError && error.retryAfterMs !== undefined) {
        if (error.retryAfterMs > this.retry.maxRetryAfterMs) throw error;
        delayMs = error.retryAfterMs;
      } else {
        delayMs = Math.random() * Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
      }
      this.emit({ type: "retry", route, attempt: attempt + 1, delayMs });
      await sleep(delayMs, call.signal);
    }
  }

  // --- predictions

  /** One prediction of `model`: `client.predict("credit", {applicant_data})`. */
  predict<M extends ModelName>(model: M, body: RequestOf<M>, call?: CallOptions): Promise<AnswerOf<M>> {
    const route = `/predict/${ROUTES[model]}`;
    return this.call("POST", route, route, body, true, call);
  }

  /** Up to the server's batch limit of predictions, answered in order by one version. */
  predictBatch<M extends ModelName>(model: M, inputs: RequestOf<M>[], call?: CallOptions): Promise<BatchAnswerOf<M>> {
    const route = `/predict/${ROUTES[model]}/batch`;
    return this.call("POST", route, route, { inputs }, true, call);
  }

  classifyIntent(body: IntentRequest, call?: CallOptions): Promise<IntentAnswer> {
    return this.predict("intent", body, call);
  }
  extractEntities(body: NerRequest, call?: CallOptions): Promise<NerAnswer> {
    return this.predict("ner", body, call);
  }
  forecastSpending(body: SpendingRequest, call?: CallOptions): Promise<SpendingAnswer> {
    return this.predict("spending", body, call);
  }
  scoreTransaction(body: AnomalyRequest, call?: CallOptions): Promise<AnomalyAnswer> {
    return this.predict("anomaly", body, call);
  }
  assessCreditRisk(body: CreditRequest, call?: CallOptions): Promise<CreditAnswer> {
    return this.predict("credit", body, call);
  }

  // --- models, features, monitoring, agents

  models(call?: CallOptions): Promise<ModelsResponse> {
    return this.call("GET", "/models", "/models", undefined, true, call);
  }
  onlineFeatures(body: OnlineFeaturesRequest, call?: CallOptions): Promise<OnlineFeaturesResponse> {
    return this.call("POST", "/features/online", "/features/online", body, true, call);
  }
  statistics(call?: CallOptions): Promise<StatisticsResponse> {
    return this.call("GET", "/monitoring/statistics", "/monitoring/statistics", undefined, true, call);
  }
  /** What really happened for a prediction (a later report replaces it). */
  feedback(body: FeedbackRequest, call?: CallOptions): Promise<FeedbackRecorded> {
    return this.call("POST", "/feedback", "/feedback", body, true, call);
  }
  /** The model's last drift check (404 before one ran). */
  lastDrift(model: ModelName, call?: CallOptions): Promise<DriftReport> {
    return this.call("GET", "/monitoring/drift/{model}", `/monitoring/drift/${model}`, undefined, true, call);
  }
  /** Check the model's logged traffic of the last `window` (`7d`, `24h`) against its training profile now. */
  checkDrift(model: ModelName, window?: string, call?: CallOptions): Promise<DriftReport> {
    const q = window ? `?window=${encodeURIComponent(window)}` : "";
    return this.call("POST", "/monitoring/drift/{model}/check", `/monitoring/drift/${model}/check${q}`, undefined, true, call);
  }
  /** The primary metric on the outcomes fed back, per window, next to the training metric. */
  performance(model: ModelName, call?: CallOptions): Promise<Performance> {
    return this.call("GET", "/monitoring/performance/{model}", `/monitoring/performance/${model}`, undefined, true, call);
  }
  /** The agent tools: `openai`, `gemini` or `mcp` shapes (all three without a format). */
  tools(format?: "openai" | "gemini" | "mcp", call?: CallOptions): Promise<unknown> {
    const path = format ? `/tools?format=${format}` : "/tools";
    return this.call("GET", "/tools", path, undefined, true, call);
  }
  /** Load a model's champion now (admin; never sent twice unless refused unprocessed). */
  reloadModel(model: ModelName, call?: CallOptions): Promise<ReloadResponse> {
    return this.call("POST", "/models/{name}/reload", `/models/${model}/reload`, undefined, false, call);
  }

  // --- health: one attempt, no breaker (a probe reports what it sees)

  health(call?: CallOptions): Promise<HealthResponse> {
    return this.attempt("GET", "/health", "/health", undefined, call ?? {});
  }
  /** True when every champion is loaded (`/health/ready` 200), false on 503. */
  async isReady(call?: CallOptions): Promise<boolean> {
    try {
      await this.attempt("GET", "/health/ready", "/health/ready", undefined, call ?? {});
      return true;
    } catch (e) {
      if (e instanceof MlApiError && e.status === 503) return false;
      throw e;
    }
  }
}
