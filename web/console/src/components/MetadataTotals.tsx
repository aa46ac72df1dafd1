import type { Schemas } from "@policyresults/sdk";

const number = new Intl.NumberFormat("en");

/** The four totals of GET /metadata. */
export function MetadataTotals({ metadata }: { metadata: Schemas["PolicyResultsMetadata"] }) {
  const cards = [
    { label: "Policies", value: metadata.policyTotalCount },
    { label: "Policies with issues", value: metadata.policyWithIssuesCount, of: metadata.policyTotalCount },
    { label: "Governed resources", value: metadata.resourcesTotalCount },
    { label: "Resources with issues", value: metadata.resourcesWithIssuesCount, of: metadata.resourcesTotalCount },
  ];
  return (
    <section class="totals" aria-label="Totals">
      {cards.map((c) => (
        <div class="card stat" key={c.label}>
          <div class="stat-label">{c.label}</div>
          <div class="stat-value">{number.format(c.value)}</div>
          {c.of !== undefined && (
            <div class="stat-sub">{c.of > 0 ? `${Math.round((100 * c.value) / c.of)}% of ${number.format(c.of)}` : "none yet"}</div>
          )}
        </div>
      ))}
    </section>
  );
}
