// Starts the real policyresults binary for the tests: an empty SQLite
// database in a temporary folder, seeded with the demo organisation "acme".
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from sdk/typescript/dist-test/test/. */
export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** A running server. */
export interface TestServer {
  baseUrl: string;
  token: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

// binary returns POLICYRESULTS_BIN, else bin/policyresults of the repository,
// building it when it is missing.
function binary(): string {
  const fromEnv = process.env.POLICYRESULTS_BIN;
  if (fromEnv) {
    return fromEnv;
  }
  const bin = join(repoRoot, "bin", "policyresults");
  if (!existsSync(bin)) {
    const built = spawnSync("go", ["build", "-o", bin, "./cmd/policyresults"], { cwd: repoRoot, stdio: "inherit" });
    if (built.status !== 0) {
      throw new Error(`go build failed (${built.status ?? built.signal})`);
    }
  }
  return bin;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once("exit", () => resolve());
  });
}

/** Starts `policyresults serve --demo` and waits until it is ready. */
export async function startServer(): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), "policyresults-sdk-"));
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const child = spawn(binary(), ["serve", "--demo", "--addr", addr], {
    // No rate limit: the tests page with small pages on purpose.
    env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, "policyresults.db")}`, POLICYRESULTS_RATE_LIMIT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  // Keep the end of the log for a failure message.
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-8000)));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const baseUrl = `http://${addr}`;
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`policyresults exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`policyresults did not get ready in 60s:\n${stderr}`);
      }
      const token = /export TOKEN=(pul-[0-9a-f]+)/.exec(stdout)?.[1];
      if (token) {
        const ready = await fetch(`${baseUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) {
          return { baseUrl, token, stop };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Parses RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") {
        i++;
      }
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
