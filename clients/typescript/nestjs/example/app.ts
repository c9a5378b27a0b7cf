// An example NestJS backend using nivesh-ml as Nivesh's backend does: a chat endpoint that
// reads the user's intent and entities, and answers without them (degraded) when the ML
// service fails; a credit endpoint that reports refused fields; a health endpoint.
//
//   NIVESH_ML_URL=http://127.0.0.1:8000 node dist/nestjs/example/main.js   # then
//   curl -s localhost:3000/chat -H 'Content-Type: application/json' -d '{"message": "Paid 5k to Zomato"}'
import "reflect-metadata";
import { Body, Controller, Get, HttpException, Module, Post } from "@nestjs/common";
import { MlApiError, MlError } from "../../src/index.js";
import type { CreditApplication } from "../../src/index.js";
import { MlClientService, MlHealthIndicator, MlIntegrationModule } from "../src/index.js";

@Controller()
export class ChatController {
  constructor(
    private readonly ml: MlClientService,
    private readonly mlHealth: MlHealthIndicator,
  ) {}

  @Post("chat")
  async chat(@Body() body: { message: string; userId?: string }) {
    try {
      const [intent, entities] = await Promise.all([
        this.ml.classifyIntent({ query: body.message, user_id: body.userId ?? null }),
        this.ml.extractEntities({ text: body.message }),
      ]);
      return {
        degraded: false,
        intent: intent.low_confidence ? null : intent.intent,
        entities: entities.entities.map((e) => ({ label: e.label, text: e.text, value: e.value })),
        predictionId: intent.prediction_id,
      };
    } catch (e) {
      if (e instanceof MlError && e.serverFailure) {
        // the assistant goes on without ML rather than failing the user
        return { degraded: true, intent: null, entities: [], reason: e.constructor.name };
      }
      throw e;
    }
  }

  @Post("credit")
  async credit(@Body() applicant: CreditApplication) {
    try {
      const s = await this.ml.assessCreditRisk({ applicant_data: applicant });
      return { risk: s.risk_category, score: s.credit_score, reasons: s.reason_codes.map((r) => r.feature) };
    } catch (e) {
      if (e instanceof MlApiError && e.status === 422) {
        throw new HttpException({ message: e.body.error, field: e.field }, 400);
      }
      throw e;
    }
  }

  @Get("health")
  async health() {
    return this.mlHealth.isHealthy();
  }
}

@Module({
  imports: [
    MlIntegrationModule.forRoot({
      baseUrl: process.env.NIVESH_ML_URL ?? "http://127.0.0.1:8000",
      apiKey: process.env.NIVESH_ML_API_KEY,
      timeoutMs: 2_000,
      retry: { maxRetries: 1 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: Number(process.env.NIVESH_ML_HALF_OPEN_MS ?? 10_000) },
    }),
  ],
  controllers: [ChatController],
})
export class AppModule {}
