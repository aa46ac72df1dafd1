import { useCallback, useState } from "preact/hooks";
import { Link, useLocation, useSearch } from "wouter-preact";

import { canTriage, useSession } from "../app/SessionContext";
import { ErrorNotice } from "../components/StatusBlocks";
import { BulkEditBar } from "../issues/BulkEditBar";
import { ColumnChooser } from "../issues/ColumnChooser";
import { columnHeader, describeFilter, groupChoices, valueLabel } from "../issues/columns";
import { ExportButton } from "../issues/ExportButton";
import { GroupList } from "../issues/GroupList";
import { IssueGrid } from "../issues/IssueGrid";
import { issuesHref, searchFromView, showsGroups, viewFromSearch, type IssueView } from "../issues/view";

const number = new Intl.NumberFormat("en");

/**
 * The issue grid and everything that shapes it: filters, grouping, columns
 * and the export. The view lives in the URL (never the token), so a link
 * reproduces it; filter and sort changes replace the history entry, opening
 * a group adds one, so Back goes up a level.
 */
export function IssuesPage() {
  const { client, org, role } = useSession();
  const search = useSearch();
  const [, navigate] = useLocation();
  const view = viewFromSearch(search);
  const [count, setCount] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [selected, setSelected] = useState<string[]>([]);
  const [reload, setReload] = useState(0);
  const triage = canTriage(role);

  const setView = useCallback(
    (next: IssueView, push = false) => navigate(`/issues?${searchFromView(next, org)}`, { replace: !push }),
    [navigate, org],
  );
  const grouping = groupChoices.findIndex((g) => g.cols.join() === view.groupBy.join());
  const filtered = Object.entries(view.filter);

  return (
    <>
      <div class="page-head">
        <h1 class="page-title">Issues</h1>
        <div class="toolbar">
          <span class="count" role="status" aria-live="polite">
            {count === undefined ? "" : showsGroups(view) ? `${number.format(count)} groups` : `${number.format(count)} issues`}
          </span>
          <label for="group-by" class="muted">
            Group by
          </label>
          <select
            id="group-by"
            value={String(grouping)}
            onChange={(e) => {
              const i = Number((e.target as HTMLSelectElement).value);
              setView({ ...view, groupBy: groupChoices[i]?.cols ?? [], groupKeys: [] }, true);
            }}
          >
            <option value="-1">No grouping</option>
            {groupChoices.map((g, i) => (
              <option key={g.label} value={String(i)}>
                {g.label}
              </option>
            ))}
          </select>
          <ColumnChooser columns={view.columns} onChange={(columns) => setView({ ...view, columns })} />
          <ExportButton view={view} />
        </div>
      </div>
      {view.groupBy.length > 0 && (
        <nav class="breadcrumbs" aria-label="Groups">
          <Link href={issuesHref(org, { ...view, groupKeys: [] })}>All groups</Link>
          {view.groupKeys.map((k, i) => (
            <span key={i}>
              {" › "}
              {i === view.groupKeys.length - 1 ? (
                <span aria-current="page">
                  {columnHeader(view.groupBy[i]!)}: {valueLabel(view.groupBy[i]!, k)}
                </span>
              ) : (
                <Link href={issuesHref(org, { ...view, groupKeys: view.groupKeys.slice(0, i + 1) })}>
                  {columnHeader(view.groupBy[i]!)}: {valueLabel(view.groupBy[i]!, k)}
                </Link>
              )}
            </span>
          ))}
        </nav>
      )}
      {filtered.length > 0 && (
        <div class="toolbar">
          <ul class="chips" aria-label="Filters">
            {filtered.map(([col, f]) => (
              <li class="chip" key={col}>
                {describeFilter(col, f)}
                <button
                  type="button"
                  aria-label={`Remove the filter on ${columnHeader(col)}`}
                  onClick={() => {
                    const { [col]: _removed, ...rest } = view.filter;
                    setView({ ...view, filter: rest });
                  }}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="button button-quiet" onClick={() => setView({ ...view, filter: {} })}>
            Clear filters
          </button>
        </div>
      )}
      {error !== undefined && (
        <ErrorNotice error={error} title="The issues could not be loaded" action={{ label: "Dismiss", run: () => setError(undefined) }} />
      )}
      {triage && !showsGroups(view) && (
        <BulkEditBar
          selected={selected}
          view={view}
          count={count}
          onDone={() => {
            setSelected([]);
            setReload((n) => n + 1);
          }}
        />
      )}
      {showsGroups(view) ? (
        <GroupList view={view} onCount={setCount} />
      ) : (
        <IssueGrid
          onSelection={triage ? setSelected : undefined}
          reload={reload}
          client={client}
          org={org}
          view={view}
          onViewChange={(v) => setView(v)}
          onRowCount={setCount}
          onError={setError}
          onOpen={(id) => navigate(`/issues/${encodeURIComponent(id)}?org=${encodeURIComponent(org)}`)}
          issueHref={(id) => `/issues/${encodeURIComponent(id)}?org=${encodeURIComponent(org)}`}
        />
      )}
    </>
  );
}
