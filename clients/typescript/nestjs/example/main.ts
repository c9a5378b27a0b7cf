import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import { AppModule } from "./app.js";

const app = await NestFactory.create(AppModule, { logger: ["error", "warn", "log"] });
await app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
console.log(`example backend on ${await app.getUrl()}`);
