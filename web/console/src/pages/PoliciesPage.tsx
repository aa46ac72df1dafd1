import { unwrap, type Schemas } from "@policyresults/sdk";
import { useEffect, useState } from "preact/hooks";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { SeverityBadge, severities, severityLabel } from "../components/Badges";
import { Pager } from "../components/Pager";
import { Empty, ErrorNotice, Loading } from "../components/StatusBlocks";
import { activeStatuses, issuesHref, setFilter, textEquals, type FilterModel, type SortItem } from "../issues/view";

type Row = Schemas["PolicyComplianceRow"];
const number = new Intl.NumberFormat("en");
const pageSize = 50;

const columns: { id: keyof Row; header: string; num?: boolean }[] = [
  { id: "policyName", header: "Policy" },
  { id: "policyPack", header: "Pack" },
  { id: "severity", header: "Severity" },
  { id: "policyGroupName", header: "Policy group" },
  { id: "governedResources", header: "Governed", num: true },
  { id: "failingResources", header: "Failing", num: true },
  { id: "percentCompliant", header: "Compliant", num: true },
];

/** The filter model of the policies page's filter fields. */
export function policiesFilter(f: { name: string; pack: string; severity: string; group: string }): FilterModel {
  const model: FilterModel = {};
  if (f.name) model.policyName = { filterType: "text", type: "contains", filter: f.name };
  if (f.pack) model.policyPack = { filterType: "text", type: "contains", filter: f.pack };
  if (f.severity !== "any") model.severity = setFilter([f.severity]);
  if (f.group) model.policyGroupName = { filterType: "text", type: "contains", filter: f.group };
  return model;
}

/** Per-policy compliance (POST /policies): sortable, filterable, each row opening its active issues. */
export function PoliciesPage() {
  const { client, org } = useSession();
  const [fields, setFields] = useState({ name: "", pack: "", severity: "any", group: "" });
  const [filter, setFilterModel] = useState<FilterModel>({});
  const [sort, setSort] = useState<SortItem[]>([]);
  const [start, setStart] = useState(0);
  // Typing settles before a request goes out.
  useEffect(() => {
    const t = setTimeout(() => {
      setFilterModel(policiesFilter(fields));
      setStart(0);
    }, 250);
    return () => clearTimeout(t);
  }, [fields.name, fields.pack, fields.severity, fields.group]);
  const page = useAsync(
    async (signal) =>
      unwrap(
        await client.POST("/api/orgs/{orgName}/policyresults/policies", {
          params: { path: { orgName: org } },
          body: {
            startRow: start,
            endRow: start + pageSize,
            filterModel: Object.keys(filter).length > 0 ? (filter as never) : null,
            sortModel: sort.length > 0 ? sort : null,
          },
          signal,
        }),
      ),
    [client, org, JSON.stringify(filter), JSON.stringify(sort), start],
  );
  const toggleSort = (id: string) => {
    const current = sort[0]?.colId === id ? sort[0].sort : undefined;
    setSort(current === undefined ? [{ colId: id, sort: "asc" }] : current === "asc" ? [{ colId: id, sort: "desc" }] : []);
    setStart(0);
  };
  const total = page.data?.totalCount ?? 0;
  return (
    <>
      <div class="page-head">
        <h1 class="page-title">Policies</h1>
        <span class="count" role="status">
          {page.data && `${number.format(total)} policies`}
        </span>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter policies">
        <div>
          <label for="pf-name">Policy contains</label>
          <input id="pf-name" type="search" value={fields.name} onInput={(e) => setFields({ ...fields, name: (e.target as HTMLInputElement).value })} />
        </div>
        <div>
          <label for="pf-pack">Pack contains</label>
          <input id="pf-pack" type="search" value={fields.pack} onInput={(e) => setFields({ ...fields, pack: (e.target as HTMLInputElement).value })} />
        </div>
        <div>
          <label for="pf-sev">Severity</label>
          <select id="pf-sev" value={fields.severity} onChange={(e) => setFields({ ...fields, severity: (e.target as HTMLSelectElement).value })}>
            <option value="any">Any</option>
            {severities.map((s) => (
              <option key={s} value={s}>
                {severityLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="pf-group">Policy group contains</label>
          <input id="pf-group" type="search" value={fields.group} onInput={(e) => setFields({ ...fields, group: (e.target as HTMLInputElement).value })} />
        </div>
      </form>
      {page.error ? (
        <ErrorNotice error={page.error} title="The policies could not be loaded" action={{ label: "Retry", run: page.reload }} />
      ) : !page.data ? (
        <Loading label="Loading the policies" />
      ) : page.data.policies.length === 0 ? (
        <Empty title="No policies match">Policies appear once packs have been evaluated; change or clear the filters.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="data-table">
            <thead>
              <tr>
                {columns.map((c) => {
                  const dir = sort[0]?.colId === c.id ? sort[0].sort : undefined;
                  return (
                    <th key={c.id} scope="col" class={c.num ? "num" : undefined} aria-sort={dir === "asc" ? "ascending" : dir === "desc" ? "descending" : undefined}>
                      <button type="button" onClick={() => toggleSort(c.id)}>
                        {c.header}
                        <span aria-hidden="true">{dir === "asc" ? " ▲" : dir === "desc" ? " ▼" : ""}</span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {page.data.policies.map((p) => (
                <tr key={`${p.policyGroupName}/${p.policyPack}/${p.policyName}`}>
                  <td>
                    <Link
                      href={issuesHref(org, {
                        filter: {
                          policyName: textEquals(p.policyName),
                          policyPack: setFilter([p.policyPack]),
                          policyGroupName: setFilter([p.policyGroupName]),
                          status: setFilter(activeStatuses),
                        },
                      })}
                    >
                      {p.policyName}
                    </Link>
                  </td>
                  <td>{p.policyPack}</td>
                  <td>
                    <SeverityBadge severity={p.severity} />
                  </td>
                  <td>
                    {p.policyGroupName} <span class="muted">({p.policyGroupType})</span>
                  </td>
                  <td class="num">{number.format(p.governedResources)}</td>
                  <td class="num">{number.format(p.failingResources)}</td>
                  <td class="num">
                    <span class="pct">
                      <span class="bar-track" aria-hidden="true">
                        <span class="pct-fill" style={{ width: `${p.percentCompliant}%` }} />
                      </span>
                      {p.percentCompliant}%
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.data && <Pager start={start} pageSize={pageSize} total={total} onChange={setStart} />}
    </>
  );
}
