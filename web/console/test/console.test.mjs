// The web console in headless Chromium against the real server
// (`policyresults serve --demo` on a fresh database, see server.mjs): every
// page, sign-in and the 401 path, the heatmap's click-through, the grid's
// sort, filters, facets, grouping and export, triage with If-Match and its
// 412, a viewer's read-only form, ingested markup shown as text, the
// security headers, no token in any URL, axe-core on every page and the
// first screen's JavaScript budget. Run by scripts/console-test.sh.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";

import { chromium } from "playwright-core";

import { startServer } from "../../testserver.mjs";

const require = createRequire(import.meta.url);
const axeSource = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const screenshots = process.env.CONSOLE_SCREENSHOTS;
/** The first screen's JavaScript budget, compressed. */
const budgetBytes = 300 * 1024;

let server;
let browser;
const contexts = [];
const requestURLs = [];
const tokens = [];

async function api(path, { method = "POST", body, token = server.token } = {}) {
  const resp = await fetch(`${server.url}/api/orgs/acme/policyresults${path}`, {
    method,
    headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(resp.ok, `${method} ${path}: ${resp.status} ${await resp.clone().text()}`);
  return resp.headers.get("content-type")?.includes("json") ? resp.json() : resp.text();
}

/** A page in a fresh browser context, with what went wrong on it recorded. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  contexts.push(context);
  context.on("request", (r) => requestURLs.push(r.url()));
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.problems = [];
  page.dialogs = [];
  page.on("pageerror", (err) => page.problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") page.problems.push(`console error: ${msg.text()}`);
  });
  page.on("dialog", (d) => {
    page.dialogs.push(d.message());
    void d.dismiss();
  });
  return page;
}

async function signIn(page, token = server.token) {
  tokens.push(token);
  await page.goto(`${server.url}/`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForSelector("h1.page-title");
}

/** A link of the left navigation. */
function nav(page, name) {
  return page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });
}

/** axe-core on the page as it is: no serious or critical violation. */
async function checkAxe(page, name) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
  });
  assert.deepEqual(violations, [], `axe on ${name}`);
}

async function shot(page, name) {
  if (screenshots) await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/** The grid's count line as a number. */
async function shownCount(page) {
  const text = await page.locator(".page-head .count").textContent();
  const m = /([\d,]+) (issues|groups)/.exec(text ?? "");
  return m ? Number(m[1].replaceAll(",", "")) : undefined;
}

async function waitForCount(page, want, what = "issues") {
  await page.waitForFunction(
    ([n, w]) => document.querySelector(".page-head .count")?.textContent === `${n} ${w}`,
    [new Intl.NumberFormat("en").format(want), what],
  );
}

/** The ids of the grid's rendered rows, in row order. */
async function gridIds(page) {
  return page.$$eval(".grid-host .ag-row[row-index][row-id]", (rows) => {
    const byIndex = new Map(rows.map((r) => [Number(r.getAttribute("row-index")), r.getAttribute("row-id")]));
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, id]) => id);
  });
}

async function waitForRows(page) {
  await page.waitForSelector(".grid-host .ag-row[row-id] a.cell-link");
}

function viewOf(page) {
  const q = new URL(page.url()).searchParams;
  return { filter: JSON.parse(q.get("filter") ?? "{}"), sort: q.get("sort"), group: q.get("group"), keys: q.get("keys") };
}

/** RFC 4180 CSV into rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field), rows.push(row), (row = []), (field = "");
    } else field += c;
  }
  if (field !== "" || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the console", () => {
  test("is served with its security headers, and unknown API paths keep the JSON 404", async () => {
    const resp = await fetch(`${server.url}/issues`);
    assert.equal(resp.status, 200);
    const csp = resp.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(resp.headers.get("x-content-type-options"), "nosniff");
    assert.equal(resp.headers.get("referrer-policy"), "no-referrer");
    const missing = await fetch(`${server.url}/api/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { code: 404, message: "Not found: GET /api/nope" });
  });

  test("signs in with a token, refuses a wrong one, and a 401 returns to sign-in", async () => {
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await checkAxe(page, "sign-in");
    await shot(page, "signin");
    await page.fill("#token", "pul-0000000000000000000000000000000000000000");
    await page.click("button[type=submit]");
    await page.getByText("The server refused this token").waitFor();

    // An organisation token, revoked while it is in use.
    const name = `console-test-${Date.now()}`;
    const token = await server.cli("token", "create", "--org", "acme", "--name", name, "--role", "member");
    await signIn(page, token);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("policyresults.token")), token);
    assert.equal(await page.evaluate(() => localStorage.getItem("policyresults.token")), null);
    const list = await server.cli("token", "list", "--org", "acme");
    const id = list.split("\n").find((l) => l.split(/\s+/).includes(name))?.trim().split(/\s+/)[0];
    assert.ok(id, list);
    await server.cli("token", "revoke", "--org", "acme", "--id", id);
    await nav(page, "Policies").click();
    await page.getByText("You were signed out").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("policyresults.token")), null);
    await page.locator("#token").waitFor();

    // "Keep me signed in" keeps it in localStorage; sign out forgets it.
    await page.fill("#token", server.token);
    await page.check("input[type=checkbox]");
    await page.click("button[type=submit]");
    await page.waitForSelector("h1.page-title");
    assert.equal(await page.evaluate(() => localStorage.getItem("policyresults.token")), server.token);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#token").waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem("policyresults.token") ?? sessionStorage.getItem("policyresults.token")), null);
  });

  test("overview: trend charts of the last 90 days from the API, and a year by week", async () => {
    const page = await newPage();
    await signIn(page);
    const day = (d) => d.toISOString().slice(0, 10);
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 89));
    const trend = await api("/trends", { body: { from: day(from), to: day(now), interval: "day", groupBy: "severity" } });
    assert.ok(trend.series.length > 0, "the demo has active issues in the last 90 days");
    const label = (s) => (s === "" ? "Unset" : s[0].toUpperCase() + s.slice(1));
    const active = page.getByRole("figure", { name: "Active issues by severity" });
    await active.locator("svg").waitFor();
    assert.deepEqual(await active.locator(".trend-legend li").allTextContents(), trend.series.map((s) => label(s.value)));
    assert.ok((await active.locator("polyline").count()) >= trend.series.length);
    const flow = page.getByRole("figure", { name: "Opened vs fixed" });
    assert.deepEqual(await flow.locator(".trend-legend li").allTextContents(), ["Opened", "Fixed"]);
    const svgLabel = await active.locator("svg").getAttribute("aria-label");
    assert.ok(svgLabel.includes(`from ${trend.intervals[0]} to ${trend.intervals[trend.intervals.length - 1]}`), svgLabel);
    await checkAxe(page, "overview trends");

    const year = page.waitForRequest((r) => r.url().endsWith("/policyresults/trends") && JSON.parse(r.postData() ?? "{}").interval === "week");
    await page.getByRole("button", { name: "365 days" }).click();
    const body = JSON.parse((await year).postData());
    assert.equal(body.to, day(now));
    await page.waitForFunction(() => document.querySelector("#trend-active-title")?.closest("figure")?.querySelector("svg")?.getAttribute("aria-label")?.includes(" to "));
    assert.equal(await page.getByRole("button", { name: "365 days" }).getAttribute("aria-pressed"), "true");
  });

  test("overview: the totals, and a heatmap cell opens the grid of its issues", async () => {
    const page = await newPage();
    await signIn(page);
    const meta = await api("/metadata", { method: "GET" });
    // The totals appear when the page's metadata call answers.
    await page.waitForFunction(() => document.querySelectorAll(".stat-value").length === 4);
    const totals = await page.locator(".stat-value").allTextContents();
    const fmt = (n) => new Intl.NumberFormat("en").format(n);
    assert.deepEqual(totals, [meta.policyTotalCount, meta.policyWithIssuesCount, meta.resourcesTotalCount, meta.resourcesWithIssuesCount].map(fmt));

    const matrix = await api("/compliance", { body: { entity: "stack", size: 50 } });
    await page.waitForSelector(".heatmap-table tbody tr");
    assert.deepEqual(await page.locator(".heatmap-table thead th").allTextContents(), ["Stack", ...matrix.columns]);
    assert.equal(await page.locator(".heatmap-table tbody tr").count(), matrix.rows.length);
    const firstRow = await page.locator(".heatmap-table tbody tr").first().locator("td").allTextContents();
    assert.deepEqual(firstRow, matrix.rows[0].scores.map((s) => (s === -1 ? "N/A" : s === -2 ? "Error" : `${s}%`)));
    await checkAxe(page, "overview");
    await shot(page, "overview");

    // The severity rows, then the least compliant stack cell.
    await page.getByRole("button", { name: "Severities" }).click();
    await page.waitForSelector(".heatmap-table tbody th:text('Critical')");
    await checkAxe(page, "overview by severity");
    await page.getByRole("button", { name: "Stacks" }).click();
    await page.waitForSelector(".heatmap-table tbody th:text-is('" + matrix.rows[0].entityName + "')");
    let worst;
    matrix.rows.forEach((r) =>
      r.scores.forEach((s, i) => {
        if (s >= 0 && s < 100 && (!worst || s < worst.s)) worst = { s, entity: r.entityName, pack: matrix.columns[i] };
      }),
    );
    assert.ok(worst, "the demo has a stack below 100%");
    await page.getByRole("link", { name: `${worst.entity}, ${worst.pack}: ${worst.s}% compliant` }).click();
    await page.waitForURL(/\/issues\?/);
    const view = viewOf(page);
    const [project, stack] = worst.entity.split("/");
    assert.deepEqual(view.filter.entityProject, { filterType: "text", type: "equals", filter: project });
    assert.deepEqual(view.filter.entityId, { filterType: "text", type: "equals", filter: stack });
    assert.deepEqual(view.filter.policyPack, { filterType: "set", values: [worst.pack] });
    const want = await api("/issues", { body: { startRow: 0, endRow: 100, filterModel: view.filter } });
    assert.ok(want.rowCount > 0, "a cell below 100% has active issues");
    await waitForCount(page, want.rowCount);
    await waitForRows(page);
    const ids = await gridIds(page);
    assert.deepEqual(ids, want.policyIssues.slice(0, ids.length).map((i) => i.id));
    assert.deepEqual(page.problems, []);
  });

  test("grid: sort by a header, a text filter, a set filter with counts", async () => {
    const page = await newPage();
    await signIn(page);
    await nav(page, "Issues").click();
    await waitForRows(page);
    const all = await api("/issues", { body: { startRow: 0, endRow: 100 } });
    await waitForCount(page, all.rowCount);
    await checkAxe(page, "issues");
    await shot(page, "issues");

    await page.locator('.ag-header-cell[col-id="policyName"] .ag-header-cell-label').click();
    await page.waitForURL(/sort=policyName%3Aasc/);
    const sorted = await api("/issues", { body: { startRow: 0, endRow: 100, sortModel: [{ colId: "policyName", sort: "asc" }] } });
    await page.waitForFunction((id) => document.querySelector('.ag-row[row-index="0"]')?.getAttribute("row-id") === id, sorted.policyIssues[0].id);
    const ids = await gridIds(page);
    assert.deepEqual(ids, sorted.policyIssues.slice(0, ids.length).map((i) => i.id));

    await page.locator('.ag-header-cell[col-id="resourceName"] .ag-header-cell-filter-button').click();
    await page.locator(".ag-popup input.ag-input-field-input").first().fill("deployment");
    await page.waitForURL(/filter=/);
    await page.keyboard.press("Escape");
    const text = { resourceName: { filterType: "text", type: "contains", filter: "deployment" } };
    assert.deepEqual(viewOf(page).filter, text);
    const filtered = await api("/issues", { body: { startRow: 0, endRow: 100, filterModel: text, sortModel: [{ colId: "policyName", sort: "asc" }] } });
    assert.ok(filtered.rowCount > 0 && filtered.rowCount < all.rowCount);
    await waitForCount(page, filtered.rowCount);
    await page.getByText("Resource contains “deployment”").waitFor();

    await page.locator('.ag-header-cell[col-id="severity"] .ag-header-cell-filter-button').click();
    await page.waitForSelector(".set-filter li");
    const facets = await api("/issues/filters", { body: { field: "severity", filterModel: text } });
    const shown = await page.$$eval(".set-filter li", (lis) => lis.map((li) => [li.querySelector("input").value, li.querySelector(".n").textContent]));
    assert.deepEqual(shown, facets.values.map((v) => [v.name, String(v.count)]));
    await checkAxe(page, "issues with the set filter open");
    await page.locator(".set-filter li", { hasText: "Critical" }).locator("input").check();
    await page.waitForURL(/severity/);
    await page.keyboard.press("Escape");
    const both = { ...text, severity: { filterType: "set", values: ["critical"] } };
    assert.deepEqual(viewOf(page).filter, both);
    const narrowed = await api("/issues", { body: { startRow: 0, endRow: 100, filterModel: both } });
    await waitForCount(page, narrowed.rowCount);
    assert.equal(narrowed.rowCount, facets.values.find((v) => v.name === "critical").count);

    // The link reproduces the view in another browser.
    const link = page.url();
    const other = await newPage();
    await signIn(other);
    await other.goto(link);
    await waitForCount(other, narrowed.rowCount);
    await waitForRows(other);
    assert.deepEqual(await gridIds(other), narrowed.policyIssues.length > 0 ? (await gridIds(page)) : []);
    assert.deepEqual([...page.problems, ...other.problems], []);
  });

  test("grid: grouping by a column, into a group and back", async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${server.url}/issues?org=acme`);
    await waitForRows(page);
    await page.selectOption("#group-by", { label: "Status" });
    await page.waitForSelector(".group-list tbody tr");
    const groups = await api("/issues", {
      body: { startRow: 0, endRow: 100, rowGroupCols: [{ id: "status" }], groupKeys: [], valueCols: [{ id: "id", aggFunc: "count" }], sortModel: [{ colId: "id", sort: "desc" }] },
    });
    await waitForCount(page, groups.rowCount, "groups");
    const rows = await page.$$eval(".group-list tbody tr", (trs) => trs.map((tr) => [tr.querySelector("td").textContent, tr.querySelector(".num").textContent]));
    const label = { open: "Open", in_progress: "In progress", by_design: "By design", ignored: "Ignored", fixed: "Fixed" };
    assert.deepEqual(rows, groups.groupData.map((g) => [label[g.status], String(g.count)]));
    await checkAxe(page, "issues grouped by status");
    await shot(page, "issues-grouped");

    await page.getByRole("link", { name: /^Status Open: / }).click();
    await waitForRows(page);
    const open = await api("/issues", { body: { startRow: 0, endRow: 100, rowGroupCols: [{ id: "status" }], groupKeys: ["open"] } });
    await waitForCount(page, open.rowCount);
    assert.equal(open.rowCount, groups.groupData.find((g) => g.status === "open").count);
    const ids = await gridIds(page);
    assert.ok(ids.length > 0);
    assert.deepEqual(ids, open.policyIssues.slice(0, ids.length).map((i) => i.id));
    assert.ok(open.policyIssues.every((i) => i.status === "open"));
    await page.getByText("Status: Open").waitFor();

    await page.goBack();
    await page.waitForSelector(".group-list tbody tr");
    await waitForCount(page, groups.rowCount, "groups");
    await page.selectOption("#group-by", { label: "No grouping" });
    await waitForRows(page);
    assert.deepEqual(page.problems, []);
  });

  test("export: the CSV's rows are the grid's, for the same view", async () => {
    const page = await newPage();
    await signIn(page);
    const filter = { severity: { filterType: "set", values: ["critical", "high"] }, status: { filterType: "set", values: ["open", "in_progress"] } };
    const view = new URLSearchParams({ org: "acme", filter: JSON.stringify(filter), sort: "resourceName:desc" });
    const answers = [];
    page.on("response", async (r) => {
      if (r.url().endsWith("/policyresults/issues") && r.request().method() === "POST") answers.push(await r.json());
    });
    await page.goto(`${server.url}/issues?${view}`);
    await waitForRows(page);
    const grid = answers.at(-1);
    assert.ok(grid.rowCount > 0 && grid.rowCount <= 100, `the view has ${grid.rowCount} rows, one block`);
    await waitForCount(page, grid.rowCount);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    assert.match(download.suggestedFilename(), /^policy-issues-acme-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = parseCsv(await readFile(await download.path(), "utf8"));
    const header = csv[0];
    const ids = csv.slice(1).map((r) => r[header.indexOf("id")]);
    assert.deepEqual(ids, grid.policyIssues.map((i) => i.id));
    assert.deepEqual(ids.slice(0, (await gridIds(page)).length), await gridIds(page));
  });

  test("an issue: its fields, triage recorded in the history, and a 412 when two people edit it", async () => {
    const open = await api("/issues", {
      body: { startRow: 0, endRow: 1, filterModel: { status: { filterType: "set", values: ["open"] } }, sortModel: [{ colId: "observedAt", sort: "asc" }] },
    });
    const issue = open.policyIssues[0];
    const a = await newPage();
    const b = await newPage();
    await signIn(a);
    await signIn(b);
    const path = `${server.url}/issues/${issue.id}?org=acme`;
    await a.goto(path);
    await b.goto(path);
    for (const p of [a, b]) await p.waitForSelector(".issue-title");
    assert.equal(await a.locator(".message").textContent(), issue.message);
    assert.equal(await a.locator("dd.mono").first().textContent(), issue.resourceURN);
    await a.waitForSelector(".timeline li");
    await checkAxe(a, "an issue");
    await shot(a, "issue");

    // The assignee list is the organisation's members.
    const options = await a.locator("label:has-text('Assignee') select option").allTextContents();
    assert.deepEqual(options.slice(0, 1), ["Unassigned"]);
    assert.ok(["Alice Admin (alice)", "Bob Builder (bob)", "Carol Viewer (carol)"].every((o) => options.includes(o)), options.join());

    await a.selectOption("label:has-text('Status') select", "in_progress");
    await a.getByRole("button", { name: "Save" }).click();
    await a.getByText("Saved.").waitFor();
    await a.locator(".timeline li", { hasText: "Changed status from open to in_progress" }).waitFor();

    // b still holds the first ETag.
    await b.selectOption("label:has-text('Priority') select", "p0");
    await b.selectOption("label:has-text('Assignee') select", "bob");
    await b.getByRole("button", { name: "Save" }).click();
    const conflict = b.locator(".notice-warning");
    await conflict.getByText("Someone else changed this issue").waitFor();
    assert.match(await conflict.textContent(), /It is now In progress/);
    await checkAxe(b, "an issue with a conflict");
    await b.getByRole("button", { name: "Re-apply my changes" }).click();
    await b.getByText("Saved.").waitFor();
    const now = await api(`/issues/${issue.id}`, { method: "GET" });
    assert.equal(now.policyIssue.status, "in_progress");
    assert.equal(now.policyIssue.priority, "p0");
    assert.equal(now.policyIssue.assignedTo?.githubLogin, "bob");
    await b.locator(".timeline li", { hasText: "Changed assignee" }).waitFor();
  });

  test("bulk edit: rows picked on the page, all matching with a stale count shown and re-applied, an acceptance", async () => {
    const page = await newPage();
    await signIn(page);
    const openLow = { status: { filterType: "set", values: ["open"] }, severity: { filterType: "set", values: ["low"] } };
    await page.goto(`${server.url}/issues?org=acme&filter=${encodeURIComponent(JSON.stringify(openLow))}`);
    await waitForRows(page);
    const before = await api("/issues", { body: { startRow: 0, endRow: 100, filterModel: openLow } });
    await waitForCount(page, before.rowCount);
    assert.ok(before.rowCount >= 4, `open low issues: ${before.rowCount}`);

    // Two rows picked on this page.
    const ids = (await gridIds(page)).slice(0, 2);
    for (const id of ids) await page.locator(`.ag-row[row-id="${id}"] .ag-selection-checkbox input`).first().check();
    await page.locator("#bulk-edit legend", { hasText: "2 selected on this page" }).waitFor();
    await checkAxe(page, "issues with the bulk-edit bar");
    await shot(page, "bulk-edit");
    await page.selectOption("#bulk-priority", "p0");
    await page.click("#bulk-apply");
    await page.getByText("2 of 2 issues changed").waitFor();
    for (const id of ids) assert.equal((await api(`/issues/${id}`, { method: "GET" })).policyIssue.priority, "p0");
    assert.equal(new URL(page.url()).pathname, "/issues", "picking rows opened no issue");

    // All matching, while someone else moves one issue out of the selection:
    // the 409 is shown with the new count, and applying to it succeeds. The
    // grid reloads its rows after the change above; pick from the reloaded ones.
    let first;
    for (let i = 0; i < 100 && !first; i++) {
      await waitForRows(page);
      first = (await gridIds(page))[0];
    }
    assert.ok(first, "the grid shows rows after the bulk change");
    await page.locator(`.ag-row[row-id="${first}"] .ag-selection-checkbox input`).first().check();
    await page.check("#bulk-all");
    await page.locator("#bulk-edit legend", { hasText: `All ${before.rowCount} matching issues` }).waitFor();
    await page.selectOption("#bulk-status", "in_progress");
    const moved = before.policyIssues[before.policyIssues.length - 1].id;
    await api(`/issues/${moved}`, { method: "PATCH", body: { status: "by_design" } });
    await page.click("#bulk-apply");
    const stale = page.locator("#bulk-stale");
    await stale.getByText(`now matches ${before.rowCount - 1} issues, not ${before.rowCount}`).waitFor();
    await checkAxe(page, "issues with a stale bulk count");
    await stale.getByRole("button", { name: `Apply to ${before.rowCount - 1} issues` }).click();
    await page.getByText(`${before.rowCount - 1} of ${before.rowCount - 1} issues changed`).waitFor();
    const after = await api("/issues", { body: { startRow: 0, endRow: 1, filterModel: openLow } });
    assert.equal(after.rowCount, 0, "every open low issue is in progress");
    await waitForCount(page, 0);

    // An acceptance from the issue form.
    await page.goto(`${server.url}/issues/${moved}?org=acme`);
    await page.waitForSelector(".issue-title");
    await page.selectOption("label:has-text('Status') select", "ignored");
    const day = new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 10);
    await page.fill("#accepted-until", day);
    await page.fill("#acceptance-reason", "vendor fix due");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    const accepted = await api(`/issues/${moved}`, { method: "GET" });
    assert.equal(accepted.policyIssue.status, "ignored");
    assert.equal(accepted.policyIssue.acceptedUntil, `${day}T23:59:59Z`);
    assert.equal(accepted.policyIssue.acceptanceReason, "vendor fix due");
    await checkAxe(page, "an issue with an acceptance");
    // The refused batch is the one failed request the browser reports.
    assert.deepEqual(page.problems, ["console error: Failed to load resource: the server responded with a status of 409 (Conflict)"]);
  });

  test("a viewer sees the triage form disabled, with the reason", async () => {
    const token = await server.cli("token", "create", "--org", "acme", "--user", "carol");
    const page = await newPage();
    await signIn(page, token);
    await page.locator(".role-viewer").waitFor();
    const any = await api("/issues", { body: { startRow: 0, endRow: 1 } });
    await page.goto(`${server.url}/issues/${any.policyIssues[0].id}?org=acme`);
    await page.getByText("Your role in acme is viewer").waitFor();
    for (const field of await page.locator(".triage select, .triage input").all()) assert.equal(await field.isDisabled(), true);
    assert.equal(await page.getByRole("button", { name: "Save" }).isDisabled(), true);
    await checkAxe(page, "an issue, as a viewer");
    assert.deepEqual(page.problems, []);
  });

  test("ingested markup is shown as text and runs nothing", async () => {
    const evil = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    const urn = "urn:pulumi:dev::xss::aws:s3/bucket:Bucket::<b>bucket</b>";
    // The pack is published with the same markup in its policy's texts.
    const root = `${server.url}/api/orgs/acme/policypacks`;
    const auth = { Authorization: `token ${server.token}` };
    const policy = { name: "no-markup", displayName: "<i>display</i>", description: evil, remediationSteps: evil, enforcementLevel: "mandatory", message: evil, severity: "critical", url: "javascript:alert(3)" };
    const created = await fetch(root, { method: "POST", headers: auth, body: JSON.stringify({ name: "xss-pack", displayName: "<u>pack</u>", versionTag: "1.0.0", policies: [policy] }) });
    assert.ok(created.ok, await created.clone().text());
    const { version, uploadURI } = await created.json();
    assert.ok((await fetch(uploadURI, { method: "PUT", headers: auth, body: new Uint8Array([31, 139, 8, 0]) })).ok);
    const completed = await fetch(`${root}/xss-pack/versions/${version}/complete`, { method: "POST", headers: auth });
    assert.ok(completed.ok, await completed.text());
    await api("/evaluations", {
      body: {
        stack: { project: "xss", name: "dev", version: 1 },
        kind: "preventative",
        policyPacks: [
          {
            name: "xss-pack",
            versionTag: "1.0.0",
            policies: [policy],
          },
        ],
        resources: [{ urn, policyPacks: [{ name: "xss-pack", failed: ["no-markup"] }] }],
        violations: [{ policyPack: "xss-pack", policyName: "no-markup", resourceURN: urn, message: evil, enforcementLevel: "mandatory", severity: "critical" }],
      },
    });
    const page = await newPage();
    await signIn(page);
    await page.waitForSelector(".heatmap-table tbody th:text-is('xss/dev')");
    const view = new URLSearchParams({ org: "acme", filter: JSON.stringify({ entityProject: { filterType: "text", type: "equals", filter: "xss" } }), cols: "policyName,resourceName,message" });
    await page.goto(`${server.url}/issues?${view}`);
    await waitForRows(page);
    assert.equal(await page.locator('.ag-row[row-index="0"] [col-id="message"]').textContent(), evil);
    assert.equal(await page.locator('.ag-row[row-index="0"] [col-id="resourceName"]').textContent(), "<b>bucket</b>");
    await page.locator('.ag-row[row-index="0"] a.cell-link').click();
    await page.waitForSelector(".issue-title");
    assert.equal(await page.locator(".issue-title").textContent(), "<i>display</i>");
    assert.equal(await page.locator(".message").textContent(), evil);
    assert.deepEqual(await page.locator(".prose").allTextContents(), [evil, evil]);
    assert.equal(await page.getByText("javascript:alert(3)").count(), 1);
    assert.equal(await page.locator("a[href^='javascript:']").count(), 0);
    assert.equal(await page.locator("main img, main script, main b, main i").count(), 0);
    await page.waitForTimeout(300);
    assert.deepEqual(page.dialogs, []);
    assert.deepEqual(page.problems, []);
  });

  test("policies, packs and groups", async () => {
    const page = await newPage();
    await signIn(page);
    await nav(page, "Policies").click();
    await page.waitForSelector(".data-table tbody tr");
    const policies = await api("/policies", { body: { startRow: 0, endRow: 50 } });
    await page.getByText(`${policies.totalCount} policies`).waitFor();
    assert.deepEqual(await page.locator(".data-table tbody tr td:first-child").allTextContents(), policies.policies.map((p) => p.policyName));
    await checkAxe(page, "policies");
    await shot(page, "policies");
    await page.getByRole("button", { name: "Compliant" }).click();
    const sorted = await api("/policies", { body: { startRow: 0, endRow: 50, sortModel: [{ colId: "percentCompliant", sort: "asc" }] } });
    await page.waitForFunction((n) => document.querySelector(".data-table tbody tr td")?.textContent === n, sorted.policies[0].policyName);
    await page.fill("#pf-name", "encryption");
    const named = await api("/policies", { body: { startRow: 0, endRow: 50, filterModel: { policyName: { filterType: "text", type: "contains", filter: "encryption" } } } });
    await page.getByText(`${named.totalCount} policies`).waitFor();
    const first = named.policies[0];
    await page.getByRole("link", { name: first.policyName }).first().click();
    await page.waitForURL(/\/issues\?/);
    const issues = await api("/issues", { body: { startRow: 0, endRow: 100, filterModel: viewOf(page).filter } });
    await waitForCount(page, issues.rowCount);
    // Each failing resource has one active issue of the policy in the group.
    assert.equal(issues.rowCount, first.failingResources);

    await nav(page, "Policy packs").click();
    await page.waitForSelector(".group-cards .card table");
    const packs = await (await fetch(`${server.url}/api/orgs/acme/policypacks`, { headers: { Authorization: `token ${server.token}` } })).json();
    await page.waitForFunction((n) => document.querySelectorAll(".group-cards .card table").length === n, packs.policyPacks.length);
    assert.deepEqual(
      (await page.locator(".group-cards .card .mono").allTextContents()).sort(),
      packs.policyPacks.map((p) => p.name).sort(),
    );
    await checkAxe(page, "policy packs");

    await nav(page, "Policy groups").click();
    await page.waitForSelector(".data-table tbody tr");
    await checkAxe(page, "policy groups");
    await page.getByRole("link", { name: "default-policy-group" }).click();
    await page.getByText("Applied policy packs").waitFor();
    await checkAxe(page, "a policy group");
    assert.deepEqual(page.problems, []);
  });

  test("webhooks: an admin creates one, pings a receiver, reads the delivery and deactivates it; a viewer is told why not", async () => {
    const received = [];
    const receiver = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200, { "Content-Type": "text/plain" }).end("pong from the receiver");
      });
    });
    await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${receiver.address().port}/hook`;
      const page = await newPage();
      await signIn(page);
      await nav(page, "Webhooks").click();
      await page.getByRole("button", { name: "New webhook" }).click();
      await page.fill("#hook-display-name", "On call");
      await page.fill("#hook-url", url);
      await page.fill("#hook-secret", "console-secret");
      await page.getByLabel("Mandatory violations (opened or reopened)").check();
      await page.selectOption("#hook-severity", "high");
      await checkAxe(page, "the webhook form");
      await page.getByRole("button", { name: "Create" }).click();
      const card = page.getByRole("region", { name: "Webhook On call" });
      await card.waitFor();
      assert.match(await card.textContent(), /policy_violation_mandatory/);
      await card.getByRole("button", { name: "Ping" }).click();
      await card.getByText("Ping: HTTP 200").waitFor();
      assert.equal(received.length, 1);
      assert.equal(received[0].headers["pulumi-webhook-kind"], "ping");
      assert.equal(received[0].headers["pulumi-webhook-signature"], createHmac("sha256", "console-secret").update(received[0].body).digest("hex"));
      await card.getByRole("button", { name: "Deliveries" }).click();
      await card.getByText("pong from the receiver").waitFor();
      await checkAxe(page, "webhooks");
      await shot(page, "webhooks");
      await card.getByRole("button", { name: "Deactivate" }).click();
      await card.getByText("inactive", { exact: true }).waitFor();
      assert.ok(!(await page.content()).includes("console-secret"), "the secret is shown nowhere");
      assert.deepEqual(page.problems, []);

      const viewer = await server.cli("token", "create", "--org", "acme", "--user", "carol");
      const vpage = await newPage();
      await signIn(vpage, viewer);
      await vpage.goto(`${server.url}/webhooks?org=acme`);
      await vpage.getByText("Only admins of acme manage webhooks").waitFor();
      await checkAxe(vpage, "webhooks, as a viewer");
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test("keyboard: the column dialog keeps the focus, the grid moves by arrows and opens an issue with Enter", async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${server.url}/issues?org=acme`);
    await waitForRows(page);
    await page.getByRole("button", { name: "Columns" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Columns" });
    await dialog.waitFor();
    await checkAxe(page, "the column dialog");
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      assert.ok(await page.evaluate(() => document.activeElement?.closest("dialog") !== null), `Tab ${i + 1} left the dialog`);
    }
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    // From the header, down into the rows.
    await page.locator('.ag-header-cell[col-id="severity"]').focus();
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.evaluate(() => document.activeElement?.closest(".ag-row")?.getAttribute("row-index")), "0");
    await page.keyboard.press("ArrowDown");
    const second = await page.locator('.ag-row[row-index="1"]').first().getAttribute("row-id");
    assert.equal(await page.evaluate(() => document.activeElement?.closest(".ag-row")?.getAttribute("row-index")), "1");
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/issues/${second}`));
    await page.waitForSelector(".issue-title");
  });

  test("the first screen's JavaScript is within its budget, without the grid", async () => {
    const page = await newPage();
    await signIn(page);
    const scripts = [];
    page.on("response", async (r) => {
      if (r.request().resourceType() === "script") scripts.push({ url: r.url(), body: await r.body() });
    });
    await page.goto(`${server.url}/`);
    await page.waitForSelector(".heatmap-table tbody tr");
    assert.ok(scripts.length > 0);
    const total = scripts.reduce((n, s) => n + gzipSync(s.body).length, 0);
    assert.ok(total <= budgetBytes, `the first screen loads ${total} bytes of compressed JavaScript, over ${budgetBytes}: ${scripts.map((s) => s.url).join(", ")}`);
    assert.ok(!scripts.some((s) => /IssuesPage/.test(s.url)), "the grid's code loads with the grid page, not before");
    console.log(`first screen JavaScript: ${scripts.length} files, ${total} bytes gzip`);
  });

  test("no request carried a token in its URL, and none left the server", () => {
    assert.ok(requestURLs.length > 50, `${requestURLs.length} requests recorded`);
    // Offline: nothing from a CDN or any other origin.
    assert.deepEqual(requestURLs.filter((u) => !u.startsWith(`${server.url}/`) && !u.startsWith("data:") && !u.startsWith("blob:")), []);
    for (const t of new Set([...tokens, server.token])) {
      assert.deepEqual(requestURLs.filter((u) => u.includes(t) || u.includes(encodeURIComponent(t))), []);
    }
  });
});
