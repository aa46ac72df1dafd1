// The issue grid's view (filters, sort, grouping, columns) and its place in
// the URL, so that a link reproduces what the person sees. Pure functions:
// tested in view.test.ts.
import type { GridRequest } from "@policyresults/sdk";

/** One column's filter, as AG Grid's column filter model holds it. */
export type ColumnFilter =
  | { filterType: "text"; type: string; filter?: string | null }
  | { filterType: "number"; type: string; filter?: number | null; filterTo?: number | null }
  | { filterType: "date"; type: string; dateFrom?: string | null; dateTo?: string | null }
  | { filterType: "set"; values: string[] }
  | { filterType: "text" | "number" | "date"; operator: "AND" | "OR"; conditions: ColumnFilter[] };

/** AG Grid's column filter model: one filter per column id. */
export type FilterModel = Record<string, ColumnFilter>;

/** One sort key. */
export interface SortItem {
  colId: string;
  sort: "asc" | "desc";
}

/** Everything that decides what the issue grid shows. */
export interface IssueView {
  filter: FilterModel;
  /** Empty: the server's default order (severity, then newest). */
  sort: SortItem[];
  /** Columns grouped by, outermost first; empty when not grouping. */
  groupBy: string[];
  /** The group opened at each level (at most groupBy.length). */
  groupKeys: string[];
  /** Visible columns in order; undefined: the default columns. */
  columns?: string[];
}

export const emptyView: IssueView = { filter: {}, sort: [], groupBy: [], groupKeys: [] };

const list = (s: string | null): string[] => (s ? s.split(",").filter((x) => x !== "") : []);

/** Reads a view from a URL's query string (unknown or broken parts are ignored). */
export function viewFromSearch(search: string): IssueView {
  const q = new URLSearchParams(search);
  const view: IssueView = { ...emptyView, filter: {}, sort: [], groupBy: list(q.get("group")), groupKeys: [] };
  const filter = q.get("filter");
  if (filter) {
    try {
      const parsed: unknown = JSON.parse(filter);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) view.filter = parsed as FilterModel;
    } catch {
      // A hand-edited link: show the unfiltered grid rather than nothing.
    }
  }
  for (const item of list(q.get("sort"))) {
    const [colId, dir] = item.split(":");
    if (colId && (dir === "asc" || dir === "desc")) view.sort.push({ colId, sort: dir });
  }
  const keys = q.get("keys");
  if (keys) {
    try {
      const parsed: unknown = JSON.parse(keys);
      if (Array.isArray(parsed)) view.groupKeys = parsed.map(String).slice(0, view.groupBy.length);
    } catch {
      // As above.
    }
  }
  const columns = q.get("cols");
  if (columns) view.columns = list(columns);
  return view;
}

/** Writes a view into a query string (without the leading "?"), org first. */
export function searchFromView(view: IssueView, org?: string): string {
  const q = new URLSearchParams();
  if (org) q.set("org", org);
  if (Object.keys(view.filter).length > 0) q.set("filter", JSON.stringify(view.filter));
  if (view.sort.length > 0) q.set("sort", view.sort.map((s) => `${s.colId}:${s.sort}`).join(","));
  if (view.groupBy.length > 0) q.set("group", view.groupBy.join(","));
  if (view.groupKeys.length > 0) q.set("keys", JSON.stringify(view.groupKeys));
  if (view.columns) q.set("cols", view.columns.join(","));
  return q.toString();
}

/** The path of the issue grid showing `view`. */
export function issuesHref(org: string, view: Partial<IssueView>): string {
  return `/issues?${searchFromView({ ...emptyView, ...view }, org)}`;
}

/**
 * The grid request of rows: the filter and sort, and the groups the view has
 * opened as rowGroupCols with as many groupKeys (the server answers the rows
 * within them). Without startRow and endRow it is the export's request: the
 * whole result.
 */
export function rowsRequest(view: IssueView, startRow?: number, endRow?: number): GridRequest {
  const request: GridRequest = {
    filterModel: Object.keys(view.filter).length > 0 ? (view.filter as GridRequest["filterModel"]) : null,
    sortModel: view.sort.length > 0 ? view.sort : null,
  };
  if (startRow !== undefined && endRow !== undefined) {
    request.startRow = startRow;
    request.endRow = endRow;
  }
  const opened = view.groupKeys.length;
  if (opened > 0) {
    request.rowGroupCols = view.groupBy.slice(0, opened).map((id) => ({ id }));
    request.groupKeys = view.groupKeys;
  }
  return request;
}

/** Rows per grid request: one block of the grid's infinite row model. */
export const gridPageSize = 100;

/** The id of the count aggregate a group list sorts by. */
export const groupCountCol = "id";

/**
 * The grid request of a page of groups at the view's current level (the
 * first group column not opened), in the server's order of that column, or
 * by size, largest first.
 */
export function groupsRequest(view: IssueView, startRow: number, endRow: number, bySize: boolean): GridRequest {
  const level = view.groupKeys.length;
  const col = view.groupBy[level];
  if (col === undefined) throw new Error("groupsRequest: every group level is open");
  return {
    ...rowsRequest(view, startRow, endRow),
    rowGroupCols: view.groupBy.slice(0, level + 1).map((id) => ({ id })),
    groupKeys: view.groupKeys,
    valueCols: [{ id: groupCountCol, aggFunc: "count" }],
    sortModel: bySize ? [{ colId: groupCountCol, sort: "desc" }] : view.sort.filter((s) => s.colId === col),
  };
}

/** True when the view shows a list of groups rather than rows. */
export function showsGroups(view: IssueView): boolean {
  return view.groupKeys.length < view.groupBy.length;
}

/** Active issues: open or in progress. */
export const activeStatuses = ["open", "in_progress"];

/** A set filter on one column. */
export function setFilter(values: string[]): ColumnFilter {
  return { filterType: "set", values };
}

/** A case-insensitive text equality on one column. */
export function textEquals(value: string): ColumnFilter {
  return { filterType: "text", type: "equals", filter: value };
}

/** A compliance matrix row, as the heatmap names it. */
export type ComplianceRowKind = "stack" | "account" | "severity";

/**
 * The filter of a compliance matrix cell's active issues: the row's stack
 * (project/stack), account or severity, and the column's policy pack.
 */
export function complianceCellFilter(kind: ComplianceRowKind, entityName: string, pack: string): FilterModel {
  const filter: FilterModel = { policyPack: setFilter([pack]), status: setFilter(activeStatuses) };
  if (kind === "severity") {
    filter.severity = setFilter([entityName]);
  } else if (kind === "account") {
    filter.entityType = setFilter(["insights-account"]);
    filter.entityProject = textEquals(entityName);
  } else {
    const slash = entityName.indexOf("/");
    filter.entityType = setFilter(["stack"]);
    filter.entityProject = textEquals(slash < 0 ? entityName : entityName.slice(0, slash));
    if (slash >= 0) filter.entityId = textEquals(entityName.slice(slash + 1));
  }
  return filter;
}
