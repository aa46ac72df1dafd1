import { unwrap } from "@policyresults/sdk";
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { Pager } from "../components/Pager";
import { Empty, ErrorNotice, Loading } from "../components/StatusBlocks";
import { columnHeader, valueLabel } from "./columns";
import { groupsRequest, issuesHref, type IssueView } from "./view";

const number = new Intl.NumberFormat("en");
const pageSize = 100;

/**
 * One level of grouping: the groups of the view's next group column with
 * their counts (the server's rowGroupCols/groupKeys answer), each opening
 * the next level or, at the last, the rows within it.
 */
export function GroupList({ view, onCount }: { view: IssueView; onCount: (n: number | undefined) => void }) {
  const { client, org } = useSession();
  const [bySize, setBySize] = useState(true);
  const [start, setStart] = useState(0);
  const level = view.groupKeys.length;
  const col = view.groupBy[level]!;
  const groups = useAsync(
    async (signal) => {
      const page = unwrap(
        await client.POST("/api/orgs/{orgName}/policyresults/issues", {
          params: { path: { orgName: org } },
          body: groupsRequest(view, start, start + pageSize, bySize),
          signal,
        }),
      );
      onCount(page.rowCount);
      return page;
    },
    [client, org, JSON.stringify(view), bySize, start],
  );

  return (
    <section class="card group-list" aria-labelledby="groups-title">
      <div class="section-head">
        <h2 id="groups-title">
          {columnHeader(col)} <span class="muted">{groups.data?.rowCount !== undefined && `${number.format(groups.data.rowCount)} groups`}</span>
        </h2>
        <div class="segmented" role="group" aria-label="Order of the groups">
          <button type="button" aria-pressed={bySize} onClick={() => (setBySize(true), setStart(0))}>
            Largest first
          </button>
          <button type="button" aria-pressed={!bySize} onClick={() => (setBySize(false), setStart(0))}>
            By {columnHeader(col).toLowerCase()}
          </button>
        </div>
      </div>
      {groups.error ? (
        <ErrorNotice error={groups.error} title="The groups could not be loaded" action={{ label: "Retry", run: groups.reload }} />
      ) : !groups.data ? (
        <Loading label="Loading the groups" />
      ) : groups.data.groupData.length === 0 ? (
        <Empty title="No issues match">Change or clear the filters.</Empty>
      ) : (
        <GroupTable view={view} col={col} org={org} rows={groups.data.groupData} />
      )}
      {groups.data && <Pager start={start} pageSize={pageSize} total={groups.data.rowCount ?? 0} onChange={setStart} />}
    </section>
  );
}

function GroupTable({ view, col, org, rows }: { view: IssueView; col: string; org: string; rows: Record<string, unknown>[] }) {
  const max = Math.max(1, ...rows.map((r) => Number(r.count ?? 0)));
  return (
    <div class="table-wrap">
      <table class="data-table">
        <thead>
          <tr>
            <th scope="col">{columnHeader(col)}</th>
            <th scope="col" class="num">
              Issues
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => {
            const value = g[col] === null || g[col] === undefined ? "" : String(g[col]);
            const count = Number(g.count ?? 0);
            const label = valueLabel(col, value);
            return (
              <tr key={value}>
                <td>
                  <Link href={issuesHref(org, { ...view, groupKeys: [...view.groupKeys, value] })} aria-label={`${columnHeader(col)} ${label}: ${count} issues`}>
                    {col === "severity" ? <SeverityBadge severity={value} /> : col === "status" ? <StatusBadge status={value} /> : label}
                  </Link>
                </td>
                <td class="num">
                  <span class="group-count">
                    <span class="bar-track" aria-hidden="true">
                      <span class="bar-fill" style={{ width: `${(100 * count) / max}%` }} />
                    </span>
                    {number.format(count)}
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
