import {
  BatchCountError,
  batchUpdateIssues,
  type BatchUpdatePolicyIssuesRequest,
  type BatchUpdatePolicyIssuesResponse,
} from "@policyresults/sdk";
import { useState } from "preact/hooks";

import { useSession } from "../app/SessionContext";
import { AcceptanceFields } from "../components/AcceptanceFields";
import { PriorityOptions, StatusOptions } from "../components/TriageOptions";
import { accepting, endOfDay } from "../components/IssueTriageForm";
import { errorText } from "../components/StatusBlocks";
import { rowsRequest, type IssueView } from "./view";

const number = new Intl.NumberFormat("en");

/** What the bar sets: "" leaves a field as it is. */
export interface BulkDraft {
  status: string;
  priority: string;
  /** A member's login or email; "-" unassigns. */
  assignee: string;
  acceptedUntil: string;
  acceptanceReason: string;
}

/**
 * The body of BatchUpdatePolicyIssues for a selection: the ids picked on the
 * page, or every issue the view's filter matches, with the count shown.
 */
export function batchBody(
  draft: BulkDraft,
  selection: { ids: string[] } | { view: IssueView; count: number },
): BatchUpdatePolicyIssuesRequest {
  const body: BatchUpdatePolicyIssuesRequest =
    "ids" in selection
      ? { ids: selection.ids, expectedCount: selection.ids.length }
      : { filterModel: rowsRequest(selection.view).filterModel ?? {}, expectedCount: selection.count };
  if (draft.status) body.status = draft.status as BatchUpdatePolicyIssuesRequest["status"];
  if (draft.priority) body.priority = draft.priority as BatchUpdatePolicyIssuesRequest["priority"];
  if (draft.assignee) body.assignedTo = draft.assignee === "-" ? null : draft.assignee;
  if (accepting(draft.status) && draft.acceptedUntil) {
    body.acceptedUntil = endOfDay(draft.acceptedUntil);
    body.acceptanceReason = draft.acceptanceReason;
  }
  return body;
}

const empty: BulkDraft = { status: "", priority: "", assignee: "", acceptedUntil: "", acceptanceReason: "" };

/**
 * The bulk-edit bar over the grid: the rows picked on this page, or "all N
 * matching" the filters, and the fields to set on them, sent as one
 * all-or-nothing batch with the count the person saw. When the count has
 * changed meanwhile (409), the bar says so plainly and offers the new count.
 */
export function BulkEditBar({
  selected,
  view,
  count,
  onDone,
}: {
  selected: string[];
  view: IssueView;
  count: number | undefined;
  onDone: () => void;
}) {
  const { client, org } = useSession();
  const [all, setAll] = useState(false);
  const [draft, setDraft] = useState<BulkDraft>(empty);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [stale, setStale] = useState<number | undefined>();
  const [done, setDone] = useState<BatchUpdatePolicyIssuesResponse | undefined>();

  const size = all ? (count ?? 0) : selected.length;
  const something = draft.status !== "" || draft.priority !== "" || draft.assignee !== "";
  const needsReason = accepting(draft.status) && draft.acceptedUntil !== "" && draft.acceptanceReason.trim() === "";

  const send = async (expected?: number) => {
    setBusy(true);
    setError(undefined);
    setStale(undefined);
    setDone(undefined);
    try {
      const body = batchBody(draft, all ? { view, count: expected ?? count ?? 0 } : { ids: selected });
      const answer = await batchUpdateIssues(client, org, body);
      setDone(answer);
      setDraft(empty);
      setAll(false);
      onDone();
    } catch (err) {
      if (err instanceof BatchCountError) setStale(err.matched);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  // A new selection after a batch shows the form again.
  const showDone = done !== undefined && selected.length === 0 && !all;
  if (selected.length === 0 && !all && !done) return null;
  return (
    <section class="card bulk-bar" aria-label="Bulk edit" id="bulk-edit">
      {showDone ? (
        <p role="status">
          {number.format(done!.changed)} of {number.format(done!.matched)} issues changed
          {done!.statusUnchanged > 0 ? `; ${number.format(done!.statusUnchanged)} fixed issues kept their status` : ""}.{" "}
          <button type="button" class="button button-quiet" onClick={() => setDone(undefined)}>
            Dismiss
          </button>
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (something && !needsReason) void send();
          }}
        >
          <fieldset disabled={busy}>
            <legend>
              {all ? `All ${number.format(count ?? 0)} matching issues` : `${number.format(selected.length)} selected on this page`}
            </legend>
            <label>
              <input type="checkbox" id="bulk-all" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> Select all{" "}
              {count === undefined ? "" : number.format(count)} matching
            </label>
            <label>
              Status
              <select id="bulk-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}>
                <option value="">Keep</option>
                <StatusOptions />
              </select>
            </label>
            <label>
              Priority
              <select id="bulk-priority" value={draft.priority} onChange={(e) => setDraft({ ...draft, priority: (e.target as HTMLSelectElement).value })}>
                <option value="">Keep</option>
                <PriorityOptions />
              </select>
            </label>
            <label>
              Assignee
              <input
                type="text"
                id="bulk-assignee"
                value={draft.assignee}
                placeholder="login or email; - unassigns"
                onInput={(e) => setDraft({ ...draft, assignee: (e.target as HTMLInputElement).value.trim() })}
              />
            </label>
            {accepting(draft.status) && (
              <AcceptanceFields
                idPrefix="bulk-"
                value={draft}
                onChange={(a) => setDraft({ ...draft, ...a })}
                reasonLabel="Reason"
              />
            )}
            <div class="dialog-actions">
              <button type="submit" class="button button-primary" id="bulk-apply" disabled={!something || needsReason || size === 0}>
                {busy ? "Applying…" : `Apply to ${number.format(size)} issues`}
              </button>
            </div>
          </fieldset>
        </form>
      )}
      {stale !== undefined && (
        <div class="notice notice-warning" role="alert" id="bulk-stale">
          <strong>
            The selection now matches {number.format(stale)} issues, not {number.format(size)}.
          </strong>{" "}
          Issues changed since the count was shown; nothing was changed.
          {all && (
            <div class="dialog-actions">
              <button type="button" class="button button-primary" disabled={busy} onClick={() => void send(stale)}>
                Apply to {number.format(stale)} issues
              </button>
            </div>
          )}
        </div>
      )}
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
