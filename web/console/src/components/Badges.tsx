// Badges of the issues' enumerations. Their colours are the same in the
// heatmap, the severity bars and the grid (styles.css, --sev-*).

const statusLabels: Record<string, string> = {
  open: "Open",
  in_progress: "In progress",
  by_design: "By design",
  ignored: "Ignored",
  fixed: "Fixed",
};

/** The label of an issue status. */
export function statusLabel(status: string): string {
  return statusLabels[status] ?? status;
}

/** The label of a severity ("" is unset). */
export function severityLabel(severity: string): string {
  return severity === "" ? "Unset" : severity.charAt(0).toUpperCase() + severity.slice(1);
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span class={`badge sev-${severity || "unset"}`}>{severityLabel(severity)}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{statusLabel(status)}</span>;
}

/** Severities, most severe first. */
export const severities = ["critical", "high", "medium", "low", ""];
