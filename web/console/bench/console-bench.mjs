// Measures the console in Chromium against a running server: the time from
// navigation to the first painted page of the issue grid, and from a filter
// change to the grid painting the filtered rows. A benchmark, not a test:
// it prints figures (BENCHMARKS.md, "The console") and asserts nothing.
//
//   node console-bench.mjs URL TOKEN [ORG] [RUNS]
//
// scripts/console-bench.sh loads a demo organisation and runs it, or runs it
// against a server it is given.
import { chromium } from "playwright-core";

const [url, token, org = "acme", runsArg = "5"] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node console-bench.mjs URL TOKEN [ORG] [RUNS]");
  process.exit(2);
}
const runs = Number(runsArg);

// Runs in the page before its own scripts (through the DevTools protocol,
// so the page's Content-Security-Policy does not apply): records when the
// grid first shows a row, after the frame that paints it.
const probe = () => {
  window.__firstRow = new Promise((resolve) => {
    const seen = () => document.querySelector(".grid-host .ag-row[row-id] a.cell-link");
    const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    const mo = new MutationObserver(() => {
      if (seen()) {
        mo.disconnect();
        done();
      }
    });
    document.addEventListener("DOMContentLoaded", () => mo.observe(document.body, { childList: true, subtree: true }));
  });
  window.__heatmap = new Promise((resolve) => {
    const mo = new MutationObserver(() => {
      if (document.querySelector(".heatmap-table tbody tr")) {
        mo.disconnect();
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
      }
    });
    document.addEventListener("DOMContentLoaded", () => mo.observe(document.body, { childList: true, subtree: true }));
  });
};

// In the page: applies a filter through the grid's own filter UI and
// resolves with the milliseconds until the grid painted rows of the new
// count.
async function timeFilter(page, colId, value) {
  await page.locator(`.ag-header-cell[col-id="${colId}"] .ag-header-cell-filter-button`).click();
  await page.waitForSelector(`.set-filter input[value="${value}"]`);
  const ms = await page.evaluate(
    ([v]) =>
      new Promise((resolve) => {
        const count = () => document.querySelector(".page-head .count")?.textContent;
        const before = count();
        const box = document.querySelector(`.set-filter input[value="${v}"]`);
        const t0 = performance.now();
        const mo = new MutationObserver(() => {
          if (count() !== before && document.querySelector(".grid-host .ag-row[row-id] a.cell-link")) {
            mo.disconnect();
            requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
          }
        });
        mo.observe(document.body, { childList: true, subtree: true, characterData: true });
        box.click();
      }),
    [value],
  );
  await page.keyboard.press("Escape");
  return ms;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const figures = { overview: [], gridCold: [], gridWarm: [], filterSeverity: [], filterStatus: [] };
try {
  for (let i = 0; i < runs; i++) {
    // A fresh context: an empty HTTP cache (cold), then the same page again (warm).
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript(`sessionStorage.setItem("policyresults.token", ${JSON.stringify(token)}); (${probe})();`);
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${url}/?org=${encodeURIComponent(org)}`);
    figures.overview.push(await page.evaluate(() => window.__heatmap));
    await page.goto(`${url}/issues?org=${encodeURIComponent(org)}`);
    figures.gridCold.push(await page.evaluate(() => window.__firstRow));
    await page.goto(`${url}/issues?org=${encodeURIComponent(org)}`);
    figures.gridWarm.push(await page.evaluate(() => window.__firstRow));
    figures.filterSeverity.push(await timeFilter(page, "severity", "critical"));
    figures.filterStatus.push(await timeFilter(page, "status", "open"));
    await context.close();
  }
} finally {
  await browser.close();
}

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const rows = [
  ["overview: navigation to the heatmap painted", figures.overview],
  ["grid: navigation to the first page painted, empty cache", figures.gridCold],
  ["grid: navigation to the first page painted, cached assets", figures.gridWarm],
  ["grid: severity filter to the filtered page painted", figures.filterSeverity],
  ["grid: then a status filter, to its page painted", figures.filterStatus],
];
console.log(`console benchmark: ${url}, org ${org}, ${runs} runs (ms)`);
console.log("| measure | median | max |\n|---|---|---|");
for (const [name, xs] of rows) {
  const { median, max } = stat(xs);
  console.log(`| ${name} | ${median.toFixed(0)} | ${max.toFixed(0)} |`);
}
