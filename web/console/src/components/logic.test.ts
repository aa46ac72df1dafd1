import { describe, expect, test } from "vitest";

import { scoreBand, scoreText } from "./ComplianceHeatmap";
import { triagePatch, type LoadedIssue } from "./IssueTriageForm";

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

  test("sends only what changed", () => {
    expect(triagePatch(issue, { status: "open", priority: "p2", assignee: "bob" })).toEqual({});
    expect(triagePatch(issue, { status: "in_progress", priority: "p2", assignee: "bob" })).toEqual({ status: "in_progress" });
    expect(triagePatch(issue, { status: "open", priority: "p0", assignee: "alice" })).toEqual({ priority: "p0", assignedTo: "alice" });
  });

  test("unassigning sends null", () => {
    expect(triagePatch(issue, { status: "open", priority: "p2", assignee: "" })).toEqual({ assignedTo: null });
  });
});
