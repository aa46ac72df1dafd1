// Starts `policyresults serve --demo` for the browser tests of /docs and the
// console: on an empty SQLite database of its own, or on the database
// CONSOLE_DATABASE_URL names (an empty PostgreSQL database, to run the
// console's suite on PostgreSQL). The binary is POLICYRESULTS_BIN, which
// scripts/docs-test.sh and scripts/console-test.sh build.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
export const bin = process.env.POLICYRESULTS_BIN ?? join(repoRoot, "bin", "policyresults");

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs the demo server and answers its URL, the demo admin's token (as
 * `serve --demo` prints it), `cli(args)` to run other commands of the binary
 * on the same database, and `stop()`.
 */
export async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), "policyresults-console-"));
  const databaseURL = process.env.CONSOLE_DATABASE_URL || `sqlite:${join(dir, "policyresults.db")}`;
  const addr = `127.0.0.1:${await freePort()}`;
  // Webhook receivers of the tests listen on loopback.
  const env = { ...process.env, DATABASE_URL: databaseURL, POLICYRESULTS_WEBHOOK_ALLOW_PRIVATE: "true" };
  const child = spawn(bin, ["serve", "--demo", "--addr", addr, "--rate-limit", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let log = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (log = (log + chunk).slice(-8000)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://${addr}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`policyresults did not get ready:\n${log}`);
    }
    const token = /export TOKEN=(pul-[0-9a-f]{40})/.exec(out)?.[1];
    if (token && (await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) {
      const cli = async (...args) => (await promisify(execFile)(bin, args, { env })).stdout.trim();
      return { url, token, cli, stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
