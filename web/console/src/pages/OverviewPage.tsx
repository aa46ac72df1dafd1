import { unwrap } from "@policyresults/sdk";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { ComplianceHeatmap } from "../components/ComplianceHeatmap";
import { MetadataTotals } from "../components/MetadataTotals";
import { SeverityBars } from "../components/SeverityBars";
import { ErrorNotice, Loading } from "../components/StatusBlocks";
import { TrendCharts } from "../components/TrendCharts";

/** The first page: the organisation's totals, active issues by severity, the trends and the compliance matrix. */
export function OverviewPage() {
  const { client, org } = useSession();
  const metadata = useAsync(
    async (signal) =>
      unwrap(await client.GET("/api/orgs/{orgName}/policyresults/metadata", { params: { path: { orgName: org } }, signal })),
    [client, org],
  );
  return (
    <>
      <h1 class="page-title">Overview</h1>
      {metadata.error ? (
        <ErrorNotice error={metadata.error} title="The totals could not be loaded" action={{ label: "Retry", run: metadata.reload }} />
      ) : !metadata.data ? (
        <Loading label="Loading the totals" />
      ) : (
        <div class="overview-top">
          <MetadataTotals metadata={metadata.data} />
          <SeverityBars counts={metadata.data.activeIssuesBySeverity ?? []} />
        </div>
      )}
      <TrendCharts />
      <ComplianceHeatmap />
    </>
  );
}
