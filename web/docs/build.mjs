// Copies Redoc's standalone bundle from node_modules into dist/, where
// web/docs/docs.go embeds it into the policyresults binary (so `go build`
// needs no npm and GET /docs works offline). dist/ is committed.
//
//   node build.mjs           write dist/
//   node build.mjs --check   fail when dist/ differs from what node_modules gives
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const redocDir = dirname(require.resolve("redoc/package.json"));
const { version } = JSON.parse(readFileSync(join(redocDir, "package.json"), "utf8"));

// Two edits keep the page offline:
// - the bundle names its source map, which is not shipped: drop the comment
//   so a browser's developer tools do not ask the server for it;
// - the sidebar's "API docs by Redocly" logo is an image on Redocly's CDN,
//   which the page's Content-Security-Policy would block: point it at an
//   empty data: URL instead, whose load error makes Redoc drop the image.
const remoteLogo = '"https://cdn.redoc.ly/redoc/logo-mini.svg"';
let bundle = readFileSync(join(redocDir, "bundles", "redoc.standalone.js"), "utf8");
if (bundle.split(remoteLogo).length !== 2) {
  console.error(`redoc ${version}: expected the bundle to name ${remoteLogo} once; check what it loads from outside and update build.mjs`);
  process.exit(1);
}
bundle = bundle.replace(remoteLogo, '"data:,"').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
const outputs = {
  "redoc.standalone.js": bundle,
  "redoc.standalone.js.LICENSE.txt": readFileSync(join(redocDir, "bundles", "redoc.standalone.js.LICENSE.txt"), "utf8"),
  "VERSION": `redoc ${version}\n`,
};

const maxBytes = 2 * 1024 * 1024;
if (Buffer.byteLength(bundle) > maxBytes) {
  console.error(`redoc.standalone.js is ${Buffer.byteLength(bundle)} bytes, over the ${maxBytes} budget`);
  process.exit(1);
}

const dist = join(here, "dist");
if (process.argv.includes("--check")) {
  const stale = Object.entries(outputs)
    .filter(([name, text]) => !existsSync(join(dist, name)) || readFileSync(join(dist, name), "utf8") !== text)
    .map(([name]) => name);
  if (stale.length > 0) {
    console.error(`web/docs/dist is stale against node_modules (redoc ${version}): ${stale.join(", ")}; run 'node build.mjs' in web/docs and commit`);
    process.exit(1);
  }
  console.log(`web/docs/dist is up to date (redoc ${version})`);
} else {
  mkdirSync(dist, { recursive: true });
  for (const [name, text] of Object.entries(outputs)) {
    writeFileSync(join(dist, name), text);
  }
  console.log(`wrote web/docs/dist (redoc ${version}, ${Buffer.byteLength(bundle)} bytes)`);
}
