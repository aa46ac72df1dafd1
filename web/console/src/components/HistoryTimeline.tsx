import type { PolicyIssueHistoryEntry } from "@policyresults/sdk";

import { formatDate } from "../issues/format";

const fieldLabels: Record<string, string> = {
  status: "status",
  priority: "priority",
  assignedTo: "assignee",
  level: "enforcement level",
  message: "message",
  policyPackTag: "pack version",
  severity: "severity",
  policyGroupName: "policy group",
};

/** An issue's history (GET /issues/{id}/history), newest first. */
export function HistoryTimeline({ entries }: { entries: PolicyIssueHistoryEntry[] }) {
  if (entries.length === 0) return <p class="muted">No changes yet.</p>;
  return (
    <ol class="timeline" aria-label="History, newest first">
      {entries.map((e) => (
        <li key={e.id}>
          <div class="when">
            <time dateTime={e.at}>{formatDate(e.at)}</time> · {e.actorType === "evaluation" ? "an evaluation" : e.actor}
          </div>
          <div>
            {e.field === "opened" || (e.oldValue === null && e.field === "status" && e.actorType === "evaluation") ? (
              <>Opened</>
            ) : (
              <>
                Changed {fieldLabels[e.field] ?? e.field} from <Value v={e.oldValue} /> to <Value v={e.newValue} />
              </>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Value({ v }: { v: string | null | undefined }) {
  return v === null || v === undefined || v === "" ? <em>none</em> : <span class="value">{v}</span>;
}
