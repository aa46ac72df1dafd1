// Loads GET /docs of the real server in headless Chromium and checks that
// Redoc renders every operation of the spec, from the server's own files
// only. Run by scripts/docs-test.sh, which builds the binary and names it in
// POLICYRESULTS_BIN.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { chromium } from "playwright-core";

import { startServer } from "../../testserver.mjs";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const screenshotPath = process.env.DOCS_SCREENSHOT ?? join(tmpdir(), "docs.png");

describe("GET /docs in headless Chromium", () => {
  let server;
  let browser;
  let page;
  const outside = [];
  const problems = [];

  before(async () => {
    server = await startServer();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // The page must work offline: anything it asks of another origin is
    // recorded and refused.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${server.url}/`) || url.startsWith("data:") || url.startsWith("blob:")) {
        return route.continue();
      }
      outside.push(url);
      return route.abort();
    });
    page = await context.newPage();
    // Fail in seconds, not minutes, when the page is broken.
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") {
        problems.push(`console error: ${msg.text()}`);
      }
    });
    page.on("response", (resp) => {
      if (resp.status() >= 400) {
        problems.push(`${resp.status()} ${resp.url()}`);
      }
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("renders every operation of the spec", async () => {
    const spec = await fetch(`${server.url}/api/openapi/pulumi-spec.json`).then((r) => r.json());
    const methods = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);
    const operations = Object.values(spec.paths).flatMap((item) =>
      Object.entries(item)
        .filter(([method]) => methods.has(method))
        .map(([, op]) => ({ id: op.operationId, summary: op.summary, tag: op.tags[0] })),
    );
    assert.ok(operations.length > 20, `the spec has ${operations.length} operations`);

    const resp = await page.goto(`${server.url}/docs`);
    assert.equal(resp.status(), 200);
    await page.waitForSelector('body[data-redoc="ready"]', { timeout: 30_000 });
    // Menu entries exist collapsed (hidden) under their tags.
    await page.waitForSelector('[data-item-id$="/operation/ListPolicyIssues"]', { state: "attached", timeout: 30_000 });

    // The sidebar lists each operation once, under its tag.
    const listed = await page.$$eval('li[data-item-id*="/operation/"]', (els) => els.map((e) => e.getAttribute("data-item-id")));
    assert.deepEqual(
      [...listed].sort(),
      operations.map((op) => `tag/${op.tag}/operation/${op.id}`).sort(),
    );
    // And the middle panel shows each operation under its summary.
    const titles = Object.fromEntries(
      await page.$$eval('[id^="tag/"][id*="/operation/"]', (els) =>
        els.map((e) => [e.id, e.querySelector("h2")?.textContent.trim() ?? ""]),
      ),
    );
    for (const op of operations) {
      const title = titles[`tag/${op.tag}/operation/${op.id}`] ?? "";
      assert.ok(title.startsWith(op.summary), `${op.id}: the page shows "${title}", want "${op.summary}"`);
    }
    assert.match(titles["tag/PolicyResults/operation/ListPolicyIssues"], /^List Policy Issues/);
  });

  test("shows an operation with its request body and responses", async () => {
    const entry = page.locator('li[data-item-id="tag/PolicyResults/operation/ListPolicyIssues"]');
    if (!(await entry.isVisible())) {
      await page.click('li[data-item-id="tag/PolicyResults"] > label');
    }
    await entry.locator("> label").click();
    const section = page.locator('[id="tag/PolicyResults/operation/ListPolicyIssues"]');
    await section.waitFor();
    const text = await section.innerText();
    assert.match(text, /\/api\/orgs\/\{orgName\}\/policyresults\/issues/);
    assert.match(text, /sortModel/);
    assert.match(text, /filterModel/);
    assert.match(text, /200/);
    assert.match(text, /401/);
    await page.waitForTimeout(300); // let the scroll settle for the picture
    await page.screenshot({ path: screenshotPath });
  });

  test("search finds operations", async () => {
    await page.fill('input[placeholder="Search..."]', "compliance");
    const results = page.locator('[data-role="search:results"] li');
    await results.first().waitFor({ timeout: 10_000 });
    const found = await results.allInnerTexts();
    assert.ok(found.some((t) => /Get Policy Compliance Results/.test(t)), found.join(" | "));
  });

  test("loads nothing from outside the server and logs no error", () => {
    assert.deepEqual(outside, []);
    assert.deepEqual(problems, []);
  });
});
