// The NestJS integration: `MlIntegrationModule.forRoot({...})` (or `forRootAsync`) provides
// `MlClientService` — the client, injectable — and `MlHealthIndicator` for a health endpoint
// (the result has the shape @nestjs/terminus expects, so it drops into a HealthCheckService).
import "reflect-metadata";
import { type DynamicModule, Inject, Injectable, Logger, Module } from "@nestjs/common";
import { type MlClientOptions, type MlEvent, MlClient } from "../../src/index.js";

export const ML_CLIENT_OPTIONS = Symbol("ML_CLIENT_OPTIONS");

export interface MlIntegrationOptions extends MlClientOptions {
  /** Provide the service to every module (default true). */
  isGlobal?: boolean;
  /** Log breaker changes and retries with Nest's Logger (default true). */
  logEvents?: boolean;
}

export interface MlIntegrationAsyncOptions {
  imports?: DynamicModule["imports"];
  inject?: Array<string | symbol | Function>;
  useFactory: (...args: any[]) => MlIntegrationOptions | Promise<MlIntegrationOptions>;
  isGlobal?: boolean;
}

/** The nivesh-ml client as a Nest provider: every method of `MlClient`. */
@Injectable()
export class MlClientService extends MlClient {
  private readonly logger = new Logger("nivesh-ml");

  constructor(@Inject(ML_CLIENT_OPTIONS) options: MlIntegrationOptions) {
    const log = options.logEvents ?? true;
    const user = options.onEvent;
    super({
      ...options,
      onEvent: (e: MlEvent) => {
        if (log) this.log(e);
        user?.(e);
      },
    });
  }

  private log(e: MlEvent) {
    if (e.type === "breaker") {
      const line = `${e.route}: circuit ${e.state}`;
      if (e.state === "open") this.logger.warn(line);
      else this.logger.log(line);
    } else if (e.type === "retry") {
      this.logger.debug(`${e.route}: retry ${e.attempt} in ${Math.round(e.delayMs)} ms`);
    }
  }
}

/** `{[key]: {status: "up" | "down", ...}}`: terminus's HealthIndicatorResult. */
export type MlHealthResult = Record<string, { status: "up" | "down"; [detail: string]: unknown }>;

@Injectable()
export class MlHealthIndicator {
  constructor(private readonly ml: MlClientService) {}

  /** Up when nivesh-ml is ready (every champion loaded); down, with the reason, otherwise. */
  async isHealthy(key = "nivesh-ml", timeoutMs = 2_000): Promise<MlHealthResult> {
    try {
      const h = await this.ml.health({ timeoutMs });
      const up = h.ready && h.status !== "unavailable";
      return {
        [key]: {
          status: up ? "up" : "down",
          serverStatus: h.status,
          models: h.models.map((m) => `${m.name}@${m.version}`),
          ...(h.reason ? { reason: h.reason } : {}),
        },
      };
    } catch (e) {
      // /health answers 503 with the same body when not ready
      const message = e instanceof Error ? e.message : String(e);
      return { [key]: { status: "down", message } };
    }
  }
}

@Module({})
export class MlIntegrationModule {
  static forRoot(options: MlIntegrationOptions): DynamicModule {
    return {
      module: MlIntegrationModule,
      global: options.isGlobal ?? true,
      providers: [{ provide: ML_CLIENT_OPTIONS, useValue: options }, MlClientService, MlHealthIndicator],
      exports: [MlClientService, MlHealthIndicator],
    };
  }

  static forRootAsync(options: MlIntegrationAsyncOptions): DynamicModule {
    return {
      module: MlIntegrationModule,
      global: options.isGlobal ?? true,
      imports: options.imports ?? [],
      providers: [
        { provide: ML_CLIENT_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        MlClientService,
        MlHealthIndicator,
      ],
      exports: [MlClientService, MlHealthIndicator],
    };
  }
}
