import type { Schemas } from "@policyresults/sdk";
import { Link } from "wouter-preact";

import { useSession } from "../app/SessionContext";
import { activeStatuses, issuesHref, setFilter } from "../issues/view";
import { severities, severityLabel } from "./Badges";

const number = new Intl.NumberFormat("en");

/** Active issues by severity as bars; each opens the grid of those issues. */
export function SeverityBars({ counts }: { counts: Schemas["PolicyResultsCount"][] }) {
  const { org } = useSession();
  const byName = new Map(counts.map((c) => [c.name, c.count]));
  const rows = severities.map((s) => ({ severity: s, count: byName.get(s) ?? 0 })).filter((r) => r.severity !== "" || r.count > 0);
  const max = Math.max(1, ...rows.map((r) => r.count));
  const total = rows.reduce((n, r) => n + r.count, 0);
  return (
    <section class="card severity-bars" aria-labelledby="sev-title">
      <h2 id="sev-title">
        Active issues <span class="muted">{number.format(total)}</span>
      </h2>
      <ul>
        {rows.map((r) => (
          <li key={r.severity}>
            <Link
              href={issuesHref(org, { filter: { severity: setFilter([r.severity]), status: setFilter(activeStatuses) } })}
            >
              <span class="bar-label">{severityLabel(r.severity)}</span>
              <span class="bar-track" aria-hidden="true">
                <span class={`bar-fill sev-${r.severity || "unset"}`} style={{ width: `${(100 * r.count) / max}%` }} />
              </span>
              <span class="bar-count">{number.format(r.count)}</span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
