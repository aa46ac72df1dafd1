// The issue grid's columns: every PolicyIssue field the server filters,
// sorts and groups on, with the kind of filter each takes.
import type { PolicyIssue } from "@policyresults/sdk";

import { severityLabel, statusLabel } from "../components/Badges";

/** The filter a column takes: text, a set of values with counts, a date or a number. */
export type FilterKind = "text" | "set" | "date" | "number";

export interface IssueColumn {
  id: string;
  header: string;
  filter: FilterKind;
  /** Shown when the view names no columns. */
  visible: boolean;
  width: number;
  /** Offered in the "Group by" choice. */
  groupable?: boolean;
  /** How a value reads (set filter choices, group names). */
  label?: (value: string) => string;
}

export const issueColumns: IssueColumn[] = [
  { id: "severity", header: "Severity", filter: "set", visible: true, width: 110, groupable: true, label: severityLabel },
  { id: "status", header: "Status", filter: "set", visible: true, width: 120, groupable: true, label: statusLabel },
  { id: "priority", header: "Priority", filter: "set", visible: true, width: 95, groupable: true },
  { id: "policyName", header: "Policy", filter: "text", visible: true, width: 220, groupable: true },
  { id: "resourceName", header: "Resource", filter: "text", visible: true, width: 180 },
  { id: "entityProject", header: "Project or account", filter: "text", visible: true, width: 160, groupable: true },
  { id: "entityId", header: "Stack or resource id", filter: "text", visible: true, width: 160, groupable: true },
  { id: "policyPack", header: "Policy pack", filter: "set", visible: true, width: 180, groupable: true },
  { id: "message", header: "Message", filter: "text", visible: true, width: 320 },
  { id: "assignedTo", header: "Assignee", filter: "text", visible: true, width: 130, groupable: true },
  { id: "observedAt", header: "First observed", filter: "date", visible: true, width: 165 },
  { id: "lastModified", header: "Last modified", filter: "date", visible: false, width: 165 },
  { id: "resourceType", header: "Resource type", filter: "set", visible: false, width: 200, groupable: true },
  { id: "resourceProvider", header: "Provider", filter: "set", visible: false, width: 110, groupable: true },
  { id: "resourceURN", header: "Resource URN", filter: "text", visible: false, width: 360 },
  { id: "entityType", header: "Entity type", filter: "set", visible: false, width: 130, groupable: true },
  { id: "kind", header: "Kind", filter: "set", visible: false, width: 120, groupable: true },
  { id: "level", header: "Enforcement", filter: "set", visible: false, width: 120, groupable: true },
  { id: "policyGroupName", header: "Policy group", filter: "set", visible: false, width: 200, groupable: true },
  { id: "policyGroupType", header: "Group mode", filter: "set", visible: false, width: 120 },
  { id: "policyPackTag", header: "Pack version", filter: "text", visible: false, width: 120 },
  { id: "stackVersion", header: "Stack version", filter: "number", visible: false, width: 120 },
  { id: "resourceVersion", header: "Resource version", filter: "number", visible: false, width: 130 },
  { id: "acceptedUntil", header: "Accepted until", filter: "date", visible: false, width: 165 },
  { id: "acceptanceReason", header: "Acceptance reason", filter: "text", visible: false, width: 240 },
];

export const columnById = new Map(issueColumns.map((c) => [c.id, c]));

/** The default visible columns, in order. */
export const defaultColumns = issueColumns.filter((c) => c.visible).map((c) => c.id);

/** The header of a column id (the id itself when unknown). */
export function columnHeader(id: string): string {
  return columnById.get(id)?.header ?? id;
}

/** How a value of a column reads; "" reads "(blank)". */
export function valueLabel(col: string, value: string): string {
  const label = columnById.get(col)?.label;
  if (label) return label(value);
  return value === "" ? "(blank)" : value;
}

/** A cell's value as text: the assignee's login, dates as they are (formatted by the grid). */
export function cellValue(issue: PolicyIssue, col: string): string {
  if (col === "assignedTo") return issue.assignedTo?.githubLogin ?? "";
  const v = (issue as unknown as Record<string, unknown>)[col];
  return v === undefined || v === null ? "" : String(v);
}

/** The choices of "Group by": one column, or a stack as its project and name. */
export const groupChoices: { label: string; cols: string[] }[] = [
  { label: "Status", cols: ["status"] },
  { label: "Severity", cols: ["severity"] },
  { label: "Policy pack", cols: ["policyPack"] },
  { label: "Policy pack › policy", cols: ["policyPack", "policyName"] },
  { label: "Policy", cols: ["policyName"] },
  { label: "Stack (project › stack)", cols: ["entityProject", "entityId"] },
  { label: "Project or account", cols: ["entityProject"] },
  { label: "Assignee", cols: ["assignedTo"] },
  { label: "Priority", cols: ["priority"] },
  { label: "Resource type", cols: ["resourceType"] },
  { label: "Policy group", cols: ["policyGroupName"] },
];

const conditionWords: Record<string, string> = {
  equals: "is",
  notEqual: "is not",
  contains: "contains",
  notContains: "does not contain",
  startsWith: "starts with",
  endsWith: "ends with",
  blank: "is blank",
  notBlank: "is not blank",
  lessThan: "<",
  lessThanOrEqual: "≤",
  greaterThan: ">",
  greaterThanOrEqual: "≥",
  inRange: "between",
};

/** A column filter in words, e.g. "Severity: Critical, High" or "Message contains s3". */
export function describeFilter(col: string, f: import("./view").ColumnFilter): string {
  const header = columnHeader(col);
  if ("conditions" in f) {
    return f.conditions.map((c) => describeFilter(col, c)).join(f.operator === "OR" ? " or " : " and ");
  }
  if (f.filterType === "set") return `${header}: ${f.values.map((v) => valueLabel(col, v)).join(", ")}`;
  const words = conditionWords[f.type] ?? f.type;
  if (f.type === "blank" || f.type === "notBlank") return `${header} ${words}`;
  if (f.filterType === "date") {
    const from = (f.dateFrom ?? "").slice(0, 10);
    return f.type === "inRange" ? `${header} ${words} ${from} and ${(f.dateTo ?? "").slice(0, 10)}` : `${header} ${words} ${from}`;
  }
  if (f.filterType === "number" && f.type === "inRange") return `${header} ${words} ${f.filter} and ${f.filterTo}`;
  return `${header} ${words} “${String(f.filter ?? "")}”`;
}
