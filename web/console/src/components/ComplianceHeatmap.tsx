import { unwrap, type ComplianceEntity } from "@policyresults/sdk";
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { complianceCellFilter, issuesHref } from "../issues/view";
import { severityLabel } from "./Badges";
import { Empty, ErrorNotice, Loading } from "./StatusBlocks";

const kinds: { entity: ComplianceEntity; label: string; row: string }[] = [
  { entity: "stack", label: "Stacks", row: "Stack" },
  { entity: "account", label: "Accounts", row: "Account" },
  { entity: "severity", label: "Severities", row: "Severity" },
];

/** Rows a page of the matrix shows. */
export const heatmapPageSize = 50;

/** The colour band of a score: -1 N/A, -2 error, else by how compliant. */
export function scoreBand(score: number): string {
  if (score === -1) return "na";
  if (score === -2) return "err";
  if (score >= 100) return "100";
  if (score >= 80) return "hi";
  if (score >= 50) return "mid";
  if (score > 0) return "lo";
  return "0";
}

/** What a cell says: the score, N/A or Error. */
export function scoreText(score: number): string {
  if (score === -1) return "N/A";
  if (score === -2) return "Error";
  return `${score}%`;
}

/**
 * The compliance matrix (POST /compliance) as a heatmap: stacks, accounts or
 * severities by policy pack, each cell coloured by its score and opening
 * the grid of the active issues behind it. Pages follow the continuation
 * token.
 */
export function ComplianceHeatmap() {
  const { client, org } = useSession();
  const [entity, setEntity] = useState<ComplianceEntity>("stack");
  // The tokens of the pages before the current one, to go back.
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const token = tokens[tokens.length - 1];
  const page = useAsync(
    async (signal) =>
      unwrap(
        await client.POST("/api/orgs/{orgName}/policyresults/compliance", {
          params: { path: { orgName: org } },
          body: { entity, size: heatmapPageSize, ...(token ? { continuationToken: token } : {}) },
          signal,
        }),
      ),
    [client, org, entity, token],
  );
  const kind = kinds.find((k) => k.entity === entity)!;

  return (
    <section class="card heatmap" aria-labelledby="heatmap-title">
      <div class="section-head">
        <h2 id="heatmap-title">Compliance</h2>
        <div class="segmented" role="group" aria-label="Rows of the compliance matrix">
          {kinds.map((k) => (
            <button
              type="button"
              key={k.entity}
              aria-pressed={k.entity === entity}
              onClick={() => {
                setEntity(k.entity);
                setTokens([undefined]);
              }}
            >
              {k.label}
            </button>
          ))}
        </div>
      </div>
      {page.error ? (
        <ErrorNotice error={page.error} title="The compliance matrix could not be loaded" action={{ label: "Retry", run: page.reload }} />
      ) : !page.data ? (
        <Loading label="Loading the compliance matrix" />
      ) : page.data.rows.length === 0 || page.data.columns.length === 0 ? (
        <Empty title="No evaluations yet">Scores appear once policy packs have run on stacks or accounts.</Empty>
      ) : (
        <>
          <div class="heatmap-scroll" tabIndex={0} aria-label="Compliance matrix, scrollable">
            <table class="heatmap-table">
              <caption class="visually-hidden">
                Compliance score of each {kind.row.toLowerCase()} for each policy pack
              </caption>
              <thead>
                <tr>
                  <th scope="col">{kind.row}</th>
                  {page.data.columns.map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.data.rows.map((row) => {
                  const rowName = entity === "severity" ? severityLabel(row.entityName) : row.entityName;
                  return (
                    <tr key={row.entityName}>
                      <th scope="row">{rowName}</th>
                      {row.scores.map((score, i) => {
                        const pack = page.data!.columns[i] ?? "";
                        const band = scoreBand(score);
                        const label = `${rowName}, ${pack}: ${score === -1 ? "N/A, not evaluated" : score === -2 ? "Error, the evaluation could not run" : `${score}% compliant`}`;
                        return (
                          <td key={pack} class={`cell score-${band}`}>
                            {score === -1 ? (
                              <span aria-label={label} title={label}>
                                {scoreText(score)}
                              </span>
                            ) : (
                              <Link
                                href={issuesHref(org, { filter: complianceCellFilter(entity, row.entityName, pack) })}
                                aria-label={label}
                                title={label}
                              >
                                {scoreText(score)}
                              </Link>
                            )}
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div class="heatmap-foot">
            <HeatmapLegend />
            <div class="pager">
              <button type="button" class="button" disabled={tokens.length <= 1} onClick={() => setTokens(tokens.slice(0, -1))}>
                Previous
              </button>
              <span class="muted">Page {tokens.length}</span>
              <button
                type="button"
                class="button"
                disabled={!page.data.continuationToken}
                onClick={() => setTokens([...tokens, page.data!.continuationToken])}
              >
                Next
              </button>
            </div>
          </div>
        </>
      )}
    </section>
  );
}

function HeatmapLegend() {
  const items = [
    { band: "100", label: "100%" },
    { band: "hi", label: "80–99%" },
    { band: "mid", label: "50–79%" },
    { band: "lo", label: "1–49%" },
    { band: "0", label: "0%" },
    { band: "na", label: "N/A: not evaluated" },
    { band: "err", label: "Error: could not run" },
  ];
  return (
    <ul class="legend" aria-label="Legend">
      {items.map((i) => (
        <li key={i.band}>
          <span class={`swatch score-${i.band}`} aria-hidden="true" />
          {i.label}
        </li>
      ))}
    </ul>
  );
}
