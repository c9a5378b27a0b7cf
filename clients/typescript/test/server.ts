// A real `nivesh-ml serve` for the tests: a data directory with five champions made once per
// test file (small generated data, trained by the binary), servers started on a port and
// killed. The binary is NIVESH_ML_BIN, else the workspace's target/debug/nivesh-ml; without
// one, the tests are skipped with a SKIPPED line.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const packageRoot = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = process.env.NIVESH_ML_BIN ?? join(packageRoot, "../../target/debug/nivesh-ml");
export const HAVE_BIN = existsSync(BIN);
export const PACKAGE_ROOT = packageRoot;

if (!HAVE_BIN) {
  console.log(`SKIPPED the server tests: no nivesh-ml binary at ${BIN} (set NIVESH_ML_BIN; .ci/run does)`);
}

function run(dir: string, args: string[]) {
  execFileSync(BIN, args, { cwd: dir, env: { PATH: process.env.PATH ?? "", NIVESH_DATA_DIR: "store" }, stdio: "pipe" });
}

/** A data directory with champions and materialized features. */
export function makeFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "nivesh-ts-"));
  const start = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
  run(dir, ["data", "generate", "--out", "gen", "--scale", "small", "--start", start]);
  run(dir, ["train", "--data", "gen"]);
  run(dir, ["features", "ingest", "--source", "gen/transactions.csv"]);
  run(dir, ["features", "materialize"]);
  return dir;
}

export function removeFixture(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}

export interface Served {
  url: string;
  port: number;
  child: ChildProcess;
}

/** `nivesh-ml serve` in `dir` on `port` (0: a free one), once it says where it listens. */
export function serve(dir: string, port = 0, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(BIN, ["serve", "--no-bootstrap", "--port", String(port)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", NIVESH_DATA_DIR: "store", GRPC_PORT: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server never said where it listens")), 60_000);
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = / at (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        const url = m[1];
        resolve({ url, port: Number(new URL(url).port), child });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nivesh-ml serve exited with ${code}: ${out}`));
    });
  });
}

/** Kill a server and wait until it is gone. */
export function kill(s: Served): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.removeAllListeners("exit");
    s.child.once("exit", () => resolve());
    s.child.kill("SIGKILL");
  });
}
