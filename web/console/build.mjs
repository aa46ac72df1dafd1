// Builds the console with Vite into dist/, where web/console/console.go
// embeds it into the policyresults binary (so `go build` needs no npm and
// the console works offline). dist/ is committed.
//
//   node build.mjs           write dist/
//   node build.mjs --check   fail when dist/ differs from what the sources give
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes("--check");
const outDir = check ? mkdtempSync(join(tmpdir(), "policyresults-console-")) : join(here, "dist");

await build({ configFile: join(here, "vite.config.ts"), logLevel: "warn", build: { outDir, emptyOutDir: true } });

function files(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

if (check) {
  const want = files(outDir);
  const have = files(join(here, "dist"));
  rmSync(outDir, { recursive: true, force: true });
  const names = new Set([...want.keys(), ...have.keys()]);
  const stale = [...names].filter((n) => !want.has(n) || !have.has(n) || !want.get(n).equals(have.get(n))).sort();
  if (stale.length > 0) {
    console.error(`web/console/dist is stale against its sources: ${stale.join(", ")}; run 'make generate' and commit`);
    process.exit(1);
  }
  console.log("web/console/dist is up to date");
} else {
  const all = files(outDir);
  const total = [...all.values()].reduce((n, b) => n + b.length, 0);
  console.log(`wrote web/console/dist (${all.size} files, ${total} bytes)`);
}
