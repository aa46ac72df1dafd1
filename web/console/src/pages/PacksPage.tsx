import { unwrap } from "@policyresults/sdk";
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { SeverityBadge } from "../components/Badges";
import { Empty, ErrorNotice, Loading } from "../components/StatusBlocks";
import { issuesHref, setFilter } from "../issues/view";

/** The published policy packs (GET /policypacks), each with its versions and the policies of the one opened. */
export function PacksPage() {
  const { client, org } = useSession();
  const packs = useAsync(
    async (signal) => unwrap(await client.GET("/api/orgs/{orgName}/policypacks", { params: { path: { orgName: org } }, signal })),
    [client, org],
  );
  return (
    <>
      <h1 class="page-title">Policy packs</h1>
      {packs.error ? (
        <ErrorNotice error={packs.error} title="The policy packs could not be loaded" action={{ label: "Retry", run: packs.reload }} />
      ) : !packs.data ? (
        <Loading label="Loading the policy packs" />
      ) : packs.data.policyPacks.length === 0 ? (
        <Empty title="No policy packs published">Publish one with `pulumi policy publish`.</Empty>
      ) : (
        <div class="group-cards">
          {packs.data.policyPacks.map((p) => (
            <PackCard key={p.name} name={p.name} displayName={p.displayName} versions={p.versions} tags={p.versionTags} />
          ))}
        </div>
      )}
    </>
  );
}

function PackCard({ name, displayName, versions, tags }: { name: string; displayName: string; versions: number[]; tags: string[] }) {
  const { client, org } = useSession();
  const latest = versions.length > 0 ? Math.max(...versions) : undefined;
  const [version, setVersion] = useState(latest);
  const detail = useAsync(
    async (signal) =>
      version === undefined
        ? undefined
        : unwrap(
            await client.GET("/api/orgs/{orgName}/policypacks/{policyPackName}/versions/{version}", {
              params: { path: { orgName: org, policyPackName: name, version: String(version) } },
              signal,
            }),
          ),
    [client, org, name, version],
  );
  return (
    <section class="card" aria-label={`Policy pack ${name}`}>
      <div class="section-head">
        <h2>{displayName || name}</h2>
        <Link href={issuesHref(org, { filter: { policyPack: setFilter([name]) } })}>Issues</Link>
      </div>
      <p class="muted mono">{name}</p>
      <label class="muted">
        Version{" "}
        <select value={String(version)} onChange={(e) => setVersion(Number((e.target as HTMLSelectElement).value))}>
          {versions.map((v, i) => (
            <option key={v} value={String(v)}>
              {tags[i] ?? v} (#{v})
            </option>
          ))}
        </select>
      </label>
      {detail.error ? (
        <ErrorNotice error={detail.error} title="This version could not be loaded" />
      ) : !detail.data ? (
        <Loading label="Loading the policies" />
      ) : (
        <>
          <p class="muted">{detail.data.applied ? "Applied to a policy group." : "Not applied to any policy group."}</p>
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Severity</th>
                <th scope="col">Enforcement</th>
              </tr>
            </thead>
            <tbody>
              {detail.data.policies.map((pol) => (
                <tr key={pol.name}>
                  <td title={pol.description}>{pol.displayName || pol.name}</td>
                  <td>{pol.severity !== undefined && <SeverityBadge severity={pol.severity} />}</td>
                  <td>{pol.enforcementLevel}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
