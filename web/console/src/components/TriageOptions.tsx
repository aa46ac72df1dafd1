import { statusLabel } from "./Badges";

/** The statuses a person may set; fixed is set by evaluations only. */
const settableStatuses = ["open", "in_progress", "by_design", "ignored"] as const;
/** The priorities, most urgent first. */
const priorities = ["p0", "p1", "p2", "p3", "p4"] as const;

/** The options of a status select: each status a person may set. */
export function StatusOptions() {
  return (
    <>
      {settableStatuses.map((s) => (
        <option key={s} value={s}>
          {statusLabel(s)}
        </option>
      ))}
    </>
  );
}

/** The options of a priority select: P0 to P4. */
export function PriorityOptions() {
  return (
    <>
      {priorities.map((p) => (
        <option key={p} value={p}>
          {p.toUpperCase()}
        </option>
      ))}
    </>
  );
}
