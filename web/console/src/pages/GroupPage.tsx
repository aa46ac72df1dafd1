import { unwrap } from "@policyresults/sdk";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { ErrorNotice, Loading } from "../components/StatusBlocks";
import { issuesHref, setFilter, textEquals } from "../issues/view";

/** One policy group (GET /policygroups/{name}): its packs and its stacks or accounts. */
export function GroupPage({ name }: { name: string }) {
  const { client, org } = useSession();
  const group = useAsync(
    async (signal) =>
      unwrap(
        await client.GET("/api/orgs/{orgName}/policygroups/{policyGroup}", {
          params: { path: { orgName: org, policyGroup: name } },
          signal,
        }),
      ),
    [client, org, name],
  );
  const crumbs = (
    <nav class="breadcrumbs" aria-label="Breadcrumbs">
      <Link href={`/policygroups?org=${encodeURIComponent(org)}`}>Policy groups</Link> › {name}
    </nav>
  );
  if (group.error) {
    return (
      <>
        {crumbs}
        <ErrorNotice error={group.error} title="The policy group could not be loaded" action={{ label: "Retry", run: group.reload }} />
      </>
    );
  }
  if (!group.data) return <Loading label="Loading the policy group" />;
  const g = group.data;
  return (
    <>
      {crumbs}
      <div class="page-head">
        <h1 class="page-title">{g.name}</h1>
        <Link href={issuesHref(org, { filter: { policyGroupName: setFilter([g.name]) } })}>Issues of this group</Link>
      </div>
      <p class="muted">
        {g.isOrgDefault ? "A default group. " : ""}Targets {g.entityType}, {g.mode} mode.
      </p>
      <div class="group-cards">
        <section class="card" aria-labelledby="applied-title">
          <h2 id="applied-title">Applied policy packs</h2>
          {g.appliedPolicyPacks.length === 0 ? (
            <p class="muted">No pack is applied.</p>
          ) : (
            <ul class="tag-list">
              {g.appliedPolicyPacks.map((p) => (
                <li key={p.name}>
                  {p.displayName || p.name} {p.versionTag ? <span class="muted">{p.versionTag}</span> : <span class="muted">latest</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="members-title">
          <h2 id="members-title">{g.entityType === "accounts" ? `Accounts (${g.accounts.length})` : `Stacks (${g.stacks.length})`}</h2>
          <ul class="tag-list">
            {g.entityType === "accounts"
              ? g.accounts.map((a) => (
                  <li key={a}>
                    <Link href={issuesHref(org, { filter: { entityType: setFilter(["insights-account"]), entityProject: textEquals(a) } })}>{a}</Link>
                  </li>
                ))
              : g.stacks.map((s) => (
                  <li key={`${s.routingProject}/${s.name}`}>
                    <Link href={issuesHref(org, { filter: { entityType: setFilter(["stack"]), entityProject: textEquals(s.routingProject), entityId: textEquals(s.name) } })}>
                      {s.routingProject}/{s.name}
                    </Link>
                  </li>
                ))}
          </ul>
        </section>
      </div>
    </>
  );
}
