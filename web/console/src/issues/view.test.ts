import { describe, expect, test } from "vitest";

import { describeFilter } from "./columns";
import {
  complianceCellFilter,
  emptyView,
  groupsRequest,
  rowsRequest,
  searchFromView,
  showsGroups,
  viewFromSearch,
  type IssueView,
} from "./view";

const view: IssueView = {
  filter: {
    severity: { filterType: "set", values: ["critical", "high"] },
    message: { filterType: "text", type: "contains", filter: "s3 & <b>" },
  },
  sort: [
    { colId: "observedAt", sort: "desc" },
    { colId: "priority", sort: "asc" },
  ],
  groupBy: ["entityProject", "entityId"],
  groupKeys: ["payments"],
  columns: ["severity", "message"],
};

describe("the view in the URL", () => {
  test("round-trips through the query string", () => {
    const search = searchFromView(view, "acme");
    expect(new URLSearchParams(search).get("org")).toBe("acme");
    expect(viewFromSearch(search)).toEqual(view);
  });

  test("an empty view is an empty query", () => {
    expect(searchFromView(emptyView)).toBe("");
    expect(viewFromSearch("")).toEqual(emptyView);
  });

  test("ignores what it cannot read", () => {
    const v = viewFromSearch("filter=%7Bnot-json&sort=status:sideways,severity:asc&keys=nope&group=status");
    expect(v.filter).toEqual({});
    expect(v.sort).toEqual([{ colId: "severity", sort: "asc" }]);
    expect(v.groupKeys).toEqual([]);
    expect(v.groupBy).toEqual(["status"]);
  });

  test("keeps no more group keys than group columns", () => {
    expect(viewFromSearch('group=status&keys=["open","x"]').groupKeys).toEqual(["open"]);
  });

  test("never carries a token", () => {
    expect(searchFromView(view, "acme")).not.toMatch(/pul-|token|Authorization/i);
  });
});

describe("grid requests", () => {
  test("rows within the opened groups", () => {
    const leaf = { ...view, groupKeys: ["payments", "prod"] };
    expect(showsGroups(leaf)).toBe(false);
    expect(rowsRequest(leaf, 100, 200)).toEqual({
      startRow: 100,
      endRow: 200,
      filterModel: view.filter,
      sortModel: view.sort,
      rowGroupCols: [{ id: "entityProject" }, { id: "entityId" }],
      groupKeys: ["payments", "prod"],
    });
  });

  test("the export's request has no page and the same rows", () => {
    const r = rowsRequest({ ...emptyView, filter: view.filter });
    expect(r).toEqual({ filterModel: view.filter, sortModel: null });
  });

  test("groups of the next level, by size or by value", () => {
    expect(showsGroups(view)).toBe(true);
    const bySize = groupsRequest(view, 0, 100, true);
    expect(bySize.rowGroupCols).toEqual([{ id: "entityProject" }, { id: "entityId" }]);
    expect(bySize.groupKeys).toEqual(["payments"]);
    expect(bySize.valueCols).toEqual([{ id: "id", aggFunc: "count" }]);
    expect(bySize.sortModel).toEqual([{ colId: "id", sort: "desc" }]);
    const byValue = groupsRequest({ ...view, sort: [{ colId: "entityId", sort: "asc" }] }, 0, 100, false);
    expect(byValue.sortModel).toEqual([{ colId: "entityId", sort: "asc" }]);
  });

  test("no group list once every level is open", () => {
    expect(() => groupsRequest({ ...view, groupKeys: ["a", "b"] }, 0, 10, true)).toThrow();
  });
});

describe("compliance cells", () => {
  test("a stack cell filters its project, stack, pack and active issues", () => {
    expect(complianceCellFilter("stack", "payments/prod", "aws-cis")).toEqual({
      policyPack: { filterType: "set", values: ["aws-cis"] },
      status: { filterType: "set", values: ["open", "in_progress"] },
      entityType: { filterType: "set", values: ["stack"] },
      entityProject: { filterType: "text", type: "equals", filter: "payments" },
      entityId: { filterType: "text", type: "equals", filter: "prod" },
    });
  });

  test("an account cell and a severity cell", () => {
    expect(complianceCellFilter("account", "aws-prod", "p").entityProject).toEqual({ filterType: "text", type: "equals", filter: "aws-prod" });
    expect(complianceCellFilter("account", "aws-prod", "p").entityType).toEqual({ filterType: "set", values: ["insights-account"] });
    expect(complianceCellFilter("severity", "high", "p").severity).toEqual({ filterType: "set", values: ["high"] });
  });
});

describe("filters in words", () => {
  test("set, text, combined and date filters", () => {
    expect(describeFilter("severity", { filterType: "set", values: ["critical", ""] })).toBe("Severity: Critical, Unset");
    expect(describeFilter("message", { filterType: "text", type: "contains", filter: "s3" })).toBe("Message contains “s3”");
    expect(describeFilter("resourceName", { filterType: "text", type: "blank" })).toBe("Resource is blank");
    expect(
      describeFilter("policyName", {
        filterType: "text",
        operator: "OR",
        conditions: [
          { filterType: "text", type: "startsWith", filter: "s3" },
          { filterType: "text", type: "equals", filter: "iam" },
        ],
      }),
    ).toBe("Policy starts with “s3” or Policy is “iam”");
    expect(describeFilter("observedAt", { filterType: "date", type: "inRange", dateFrom: "2025-01-01 00:00:00", dateTo: "2025-02-01 00:00:00" })).toBe(
      "First observed between 2025-01-01 and 2025-02-01",
    );
  });
});
