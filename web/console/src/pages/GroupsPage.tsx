import { unwrap } from "@policyresults/sdk";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { Empty, ErrorNotice, Loading } from "../components/StatusBlocks";

/** The policy groups (GET /policygroups): what applies where. */
export function GroupsPage() {
  const { client, org } = useSession();
  const groups = useAsync(
    async (signal) => unwrap(await client.GET("/api/orgs/{orgName}/policygroups", { params: { path: { orgName: org } }, signal })),
    [client, org],
  );
  return (
    <>
      <h1 class="page-title">Policy groups</h1>
      {groups.error ? (
        <ErrorNotice error={groups.error} title="The policy groups could not be loaded" action={{ label: "Retry", run: groups.reload }} />
      ) : !groups.data ? (
        <Loading label="Loading the policy groups" />
      ) : groups.data.policyGroups.length === 0 ? (
        <Empty title="No policy groups" />
      ) : (
        <div class="table-wrap">
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Targets</th>
                <th scope="col">Mode</th>
                <th scope="col" class="num">
                  Members
                </th>
                <th scope="col" class="num">
                  Packs applied
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.data.policyGroups.map((g) => (
                <tr key={g.name}>
                  <td>
                    <Link href={`/policygroups/${encodeURIComponent(g.name)}?org=${encodeURIComponent(org)}`}>{g.name}</Link>
                    {g.isOrgDefault && <span class="muted"> (default)</span>}
                  </td>
                  <td>{g.entityType}</td>
                  <td>{g.mode}</td>
                  <td class="num">{g.entityType === "accounts" ? (g.numAccounts ?? 0) : g.numStacks}</td>
                  <td class="num">{g.numEnabledPolicyPacks}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
