// npm run generate [URL]: write src/generated/openapi.ts from a running server's OpenAPI
// document (default http://127.0.0.1:8000/openapi.json; NIVESH_ML_API_KEY is sent if set).
import { writeFile, rename } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { generate } from "./openapi-types.mjs";

const url = process.argv[2] ?? "http://127.0.0.1:8000/openapi.json";
const headers = process.env.NIVESH_ML_API_KEY ? { "X-API-Key": process.env.NIVESH_ML_API_KEY } : {};
const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
if (!res.ok) {
  console.error(`${url}: HTTP ${res.status}`);
  process.exit(1);
}
const text = await generate(await res.json());
const out = fileURLToPath(new URL("../src/generated/openapi.ts", import.meta.url));
await writeFile(`${out}.tmp`, text);
await rename(`${out}.tmp`, out);
console.log(`wrote ${out} (${text.length} bytes) from ${url}`);
