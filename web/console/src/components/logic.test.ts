import { describe, expect, test } from "vitest";

import { scoreBand, scoreText } from "./ComplianceHeatmap";
import { triagePatch, type LoadedIssue } from "./IssueTriageForm";
import { linePoints, trendLines, trendRequest } from "./TrendCharts";

describe("heatmap scores", () => {
  test("bands and texts, N/A and error apart", () => {
    expect([100, 99, 80, 79, 50, 49, 1, 0, -1, -2].map(scoreBand)).toEqual(["100", "hi", "hi", "mid", "mid", "lo", "lo", "0", "na", "err"]);
    expect([66, -1, -2].map(scoreText)).toEqual(["66%", "N/A", "Error"]);
  });
});

describe("the triage PATCH", () => {
  const issue = {
    etag: '"1"',
    policyIssue: { status: "open", priority: "p2", assignedTo: { githubLogin: "bob", name: "Bob", avatarUrl: "" } },
  } as unknown as LoadedIssue;
  const none = { acceptedUntil: "", acceptanceReason: "" };

  test("sends only what changed", () => {
    expect(triagePatch(issue, { ...none, status: "open", priority: "p2", assignee: "bob" })).toEqual({});
    expect(triagePatch(issue, { ...none, status: "in_progress", priority: "p2", assignee: "bob" })).toEqual({ status: "in_progress" });
    expect(triagePatch(issue, { ...none, status: "open", priority: "p0", assignee: "alice" })).toEqual({ priority: "p0", assignedTo: "alice" });
  });

  test("unassigning sends null", () => {
    expect(triagePatch(issue, { ...none, status: "open", priority: "p2", assignee: "" })).toEqual({ assignedTo: null });
  });

  test("an acceptance goes with ignored or by_design, to the end of its day", () => {
    const accept = { acceptedUntil: "2027-03-31", acceptanceReason: "vendor fix due" };
    expect(triagePatch(issue, { ...accept, status: "ignored", priority: "p2", assignee: "bob" })).toEqual({
      status: "ignored",
      acceptedUntil: "2027-03-31T23:59:59Z",
      acceptanceReason: "vendor fix due",
    });
    expect(triagePatch(issue, { ...accept, status: "in_progress", priority: "p2", assignee: "bob" })).toEqual({ status: "in_progress" });
  });
});

describe("trend charts", () => {
  test("a range ends today (UTC), a year by week", () => {
    const today = new Date("2026-03-10T23:30:00Z");
    expect(trendRequest(30, today)).toEqual({ from: "2026-02-09", to: "2026-03-10", interval: "day", groupBy: "severity" });
    expect(trendRequest(365, today)).toEqual({ from: "2025-03-11", to: "2026-03-10", interval: "week", groupBy: "severity" });
  });

  test("lines are split where values are missing, scaled to the box", () => {
    expect(linePoints([0, 5, null, 10, 10], 10, 40, 20)).toEqual(["0.0,20.0 10.0,10.0", "30.0,0.0 40.0,0.0"]);
    expect(linePoints([null, null], 0, 40, 20)).toEqual([]);
  });

  test("opened vs fixed sums the severities", () => {
    const lines = trendLines({
      from: "2026-01-01", to: "2026-01-02", interval: "day", groupBy: "severity", intervals: ["2026-01-01", "2026-01-02"],
      series: [
        { value: "high", activeIssues: [3, 2], opened: [3, 0], fixed: [0, 1], reopened: [0, 0] },
        { value: "", activeIssues: [1, 1], opened: [1, 0], fixed: [0, 0], reopened: [0, 0] },
      ],
      meanTimeToFix: [{ name: "high", values: [null, 12.5] }],
      compliance: [],
    });
    expect(lines.flow.map((l) => l.values)).toEqual([[4, 0], [0, 1]]);
    expect(lines.active.map((l) => [l.label, l.className])).toEqual([["High", "sev-high"], ["Unset", "sev-unset"]]);
    expect(lines.fix[0]?.values).toEqual([null, 12.5]);
  });
});
