// MlClient against a real nivesh-ml: every route typed, typed errors, the generated types
// equal to what the running server's /openapi.json gives, and the breaker opening when the
// server is killed, failing fast, and closing when it is back.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { MlApiError, MlCircuitOpenError, MlClient, MlConnectionError, type MlEvent } from "../src/index.js";
import { APPLICANT } from "./fixtures.js";
import { HAVE_BIN, PACKAGE_ROOT, type Served, kill, makeFixture, removeFixture, serve } from "./server.js";

const KEY = "ts-client-key-1";


describe("MlClient against nivesh-ml serve", { skip: !HAVE_BIN }, () => {
  let dir: string;
  let server: Served;
  let client: MlClient;

  before(async () => {
    dir = makeFixture();
    server = await serve(dir, 0, { ML_API_KEYS: KEY });
    client = new MlClient({ baseUrl: server.url, apiKey: KEY });
  });
  after(async () => {
    if (server) await kill(server);
    if (dir) removeFixture(dir);
  });

  it("answers every route with the generated types", async () => {
    assert.equal(await client.isReady(), true);
    const health = await client.health();
    assert.equal(health.models.length, 5);
    assert.equal((await client.models()).models.length, 5);

    const intent = await client.classifyIntent({ query: "how much did I spend on food last month" });
    assert.equal(intent.model_version, "1");
    assert.equal(intent.alternatives.length, 3);
    assert.match(intent.prediction_id, /^[0-9a-f]{32}$/);

    const ner = await client.extractEntities({ text: "Paid ₹1.5 lakh on 15 March", reference_date: "2026-03-20" });
    const money = ner.entities.find((e) => e.label === "MONEY");
    assert.deepEqual(money?.value, { amount: 150000, currency: "INR" });

    const spending = await client.forecastSpending({ user_id: "U0001", months: 3 });
    assert.equal(spending.forecast.length, 3);

    const anomaly = await client.scoreTransaction({
      user_id: "U0001",
      transaction: { timestamp: new Date().toISOString(), amount: 250000, category: "shopping", channel: "card" },
    });
    assert.equal(anomaly.history_source, "feature_store");
    assert.ok(anomaly.anomaly_score >= 0 && anomaly.anomaly_score <= 1);

    const credit = await client.assessCreditRisk({ applicant_data: APPLICANT });
    assert.equal(credit.reason_codes.length, 4);
    assert.ok(credit.credit_score >= 300 && credit.credit_score <= 900);

    const batch = await client.predictBatch("credit", [{ applicant_data: APPLICANT }, { applicant_data: APPLICANT }]);
    assert.equal(batch.outputs.length, 2);
    assert.equal(batch.outputs[0]?.default_probability, credit.default_probability);
    assert.match(batch.outputs[1]?.prediction_id ?? "", /^[0-9a-f]{32}$/);

    const features = await client.onlineFeatures({ entity_ids: ["U0001"] });
    assert.equal(features.results.length, 1);
    const stats = await client.statistics();
    assert.ok(stats.models.some((m) => m.model === "credit" && m.requests >= 3));
    const tools = (await client.tools("openai")) as unknown[];
    assert.equal(tools.length, 7);
    const perf = await client.performance("credit");
    assert.equal(perf.metric, "auc_roc");
    // the prediction log writes within a second: until then there is no traffic to check
    let drift = await client.checkDrift("intent", "1h").catch((e) => e);
    for (let i = 0; i < 100 && drift instanceof MlApiError && drift.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 50));
      drift = await client.checkDrift("intent", "1h").catch((e) => e);
    }
    if (drift instanceof Error) throw drift;
    assert.equal(drift.model, "intent");
    assert.equal((await client.lastDrift("intent")).checked_at, drift.checked_at);
  });

  it("raises typed errors carrying error_type and field, and does not retry them", async () => {
    const events: MlEvent[] = [];
    const c = new MlClient({ baseUrl: server.url, apiKey: KEY, onEvent: (e) => events.push(e) });
    await assert.rejects(c.assessCreditRisk({ applicant_data: { ...APPLICANT, age: 7 } }), (e: unknown) => {
      assert.ok(e instanceof MlApiError);
      assert.equal(e.status, 422);
      assert.equal(e.errorType, "validation_error");
      assert.equal(e.field, "applicant_data.age");
      assert.equal(e.serverFailure, false);
      return true;
    });
    assert.equal(events.filter((e) => e.type === "attempt").length, 1);
    const anonymous = new MlClient({ baseUrl: server.url });
    await assert.rejects(anonymous.models(), (e: unknown) => e instanceof MlApiError && e.status === 401 && e.errorType === "unauthorized");
  });

  it("has types equal to the running server's OpenAPI document", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    const { generate } = await import(new URL("scripts/openapi-types.mjs", `file://${PACKAGE_ROOT}`).href);
    const fresh: string = await generate(await res.json());
    const committed = readFileSync(`${PACKAGE_ROOT}src/generated/openapi.ts`, "utf8");
    assert.ok(
      fresh === committed,
      "src/generated/openapi.ts differs from the server's /openapi.json: run `npm run generate -- URL/openapi.json` against a fresh server and commit it",
    );
  });

  it("opens the breaker when the server dies, fails fast, and closes when it is back", async () => {
    const events: MlEvent[] = [];
    const c = new MlClient({
      baseUrl: server.url,
      apiKey: KEY,
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1_000 },
      onEvent: (e) => events.push(e),
    });
    const req = { query: "show my credit card bill" };
    await c.classifyIntent(req);
    await kill(server);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(c.classifyIntent(req), MlConnectionError);
    }
    assert.equal(c.breakerState("/predict/intent"), "open");
    const attempts = () => events.filter((e) => e.type === "response").length;
    const before = attempts();
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await assert.rejects(c.classifyIntent(req), MlCircuitOpenError);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    assert.ok((times[50] ?? Infinity) < 1, `median fast failure ${times[50]} ms`);
    assert.equal(attempts(), before, "no request reached the network while open");
    assert.equal(c.breakerState("/predict/ner"), "closed");

    server = await serve(dir, server.port, { ML_API_KEYS: KEY });
    await new Promise((r) => setTimeout(r, 1_100));
    // half-open: the first call is the probe; one made while it runs fails fast
    const [probe, other] = await Promise.allSettled([c.classifyIntent(req), c.classifyIntent(req)]);
    assert.equal(probe.status, "fulfilled");
    assert.ok(other.status === "rejected" && other.reason instanceof MlCircuitOpenError, String(other.status));
    const answer = await c.classifyIntent(req);
    assert.equal(answer.model_version, "1");
    assert.equal(c.breakerState("/predict/intent"), "closed");
    const states = events.filter((e) => e.type === "breaker").map((e) => (e as { state: string }).state);
    assert.deepEqual(states, ["open", "half-open", "closed"]);
  });
});
