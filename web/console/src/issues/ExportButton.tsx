import { exportIssuesCsv } from "@policyresults/sdk";
import { useState } from "preact/hooks";

import { useSession } from "../app/SessionContext";
import { errorText } from "../components/StatusBlocks";
import { rowsRequest, type IssueView } from "./view";

/**
 * Downloads the view's rows as CSV (POST /issues/export): fetched with the
 * token in its header, then saved from a Blob, so the token never goes into
 * a URL.
 */
export function ExportButton({ view }: { view: IssueView }) {
  const { client, org } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const csv = await exportIssuesCsv(client, org, rowsRequest(view));
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `policy-issues-${org}-${new Date().toISOString().slice(0, 10)}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="button" onClick={run} disabled={busy}>
        {busy ? "Exporting…" : "Export CSV"}
      </button>
      {error && (
        <span class="field-error" role="alert">
          Export failed: {error}
        </span>
      )}
    </>
  );
}
