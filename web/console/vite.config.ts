/// <reference types="vitest/config" />
// Builds the console into dist/ (committed; web/console/console.go embeds it).
// The SDK is compiled from its sources so that the console always uses the
// SDK of the same commit; its own dependency (openapi-fetch) resolves from
// sdk/typescript/node_modules.
import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

const sdk = fileURLToPath(new URL("../../sdk/typescript/src/index.ts", import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  resolve: { alias: { "@policyresults/sdk": sdk } },
  esbuild: { jsx: "automatic", jsxImportSource: "preact", legalComments: "none" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    // The preload polyfill is for browsers without <link rel=modulepreload>.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
