// The NestJS module as a backend uses it: the example app (nestjs/example) on a real HTTP
// port, calling a real nivesh-ml; degraded answers and a down health indicator when the ML
// service is gone, and back when it returns.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { INestApplication } from "@nestjs/common";
import { APPLICANT } from "./fixtures.js";
import { HAVE_BIN, type Served, kill, makeFixture, removeFixture, serve } from "./server.js";

describe("MlIntegrationModule in the example backend", { skip: !HAVE_BIN }, () => {
  let dir: string;
  let ml: Served;
  let app: INestApplication;
  let url: string;

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const get = async (path: string) => (await (await fetch(`${url}${path}`)).json()) as Record<string, any>;

  before(async () => {
    dir = makeFixture();
    ml = await serve(dir);
    process.env.NIVESH_ML_URL = ml.url;
    process.env.NIVESH_ML_HALF_OPEN_MS = "3000";
    const { NestFactory } = await import("@nestjs/core");
    const { AppModule } = await import("../nestjs/example/app.js");
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, "127.0.0.1");
    url = (await app.getUrl()).replace("[::1]", "127.0.0.1");
  });
  after(async () => {
    await app?.close();
    if (ml) await kill(ml);
    if (dir) removeFixture(dir);
  });

  it("answers through MlClientService and reports health", async () => {
    const chat = await post("/chat", { message: "Paid 5k to Zomato yesterday", userId: "U0001" });
    assert.equal(chat.status, 201);
    assert.equal(chat.body.degraded, false);
    assert.ok(chat.body.entities.some((e: { label: string }) => e.label === "MONEY"), JSON.stringify(chat.body));
    const health = await get("/health");
    assert.equal(health["nivesh-ml"].status, "up");
    assert.equal(health["nivesh-ml"].models.length, 5);
  });

  it("turns a refused field into the backend's own 400", async () => {
    const r = await post("/credit", { ...APPLICANT, age: 7 });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, "applicant_data.age");
  });

  it("degrades while the ML service is gone and recovers when it is back", async () => {
    const port = ml.port;
    await kill(ml);
    for (let i = 0; i < 4; i++) {
      const chat = await post("/chat", { message: "what is my balance" });
      assert.equal(chat.body.degraded, true);
    }
    // the breaker is open now: the answer does not wait for the network
    const chat = await post("/chat", { message: "what is my balance" });
    assert.equal(chat.body.reason, "MlCircuitOpenError");
    assert.equal((await get("/health"))["nivesh-ml"].status, "down");
    ml = await serve(dir, port);
    await new Promise((r) => setTimeout(r, 3_100));
    const back = await post("/chat", { message: "what is my balance" });
    assert.equal(back.body.degraded, false);
    assert.equal((await get("/health"))["nivesh-ml"].status, "up");
  });
});
