import {
  getIssue,
  PolicyResultsError,
  updateIssue,
  type GetPolicyIssueResponse,
  type UpdatePolicyIssueRequest,
} from "@policyresults/sdk";
import { useEffect, useState } from "preact/hooks";

import { canTriage, useSession } from "../app/SessionContext";
import { AcceptanceFields } from "./AcceptanceFields";
import { PriorityOptions, StatusOptions } from "./TriageOptions";
import { statusLabel } from "./Badges";
import { errorText } from "./StatusBlocks";

/** An issue as the page holds it: the answer of GET or PATCH with its ETag. */
export type LoadedIssue = GetPolicyIssueResponse & { etag: string | undefined };

/** A member who can be assigned: login and display name. */
export interface Assignee {
  login: string;
  name: string;
}


interface Draft {
  status: string;
  priority: string;
  assignee: string;
  /** The acceptance's end date (YYYY-MM-DD, until the end of that date UTC), "" for none. */
  acceptedUntil: string;
  acceptanceReason: string;
}

/** Whether a status takes a risk acceptance. */
export function accepting(status: string): boolean {
  return status === "ignored" || status === "by_design";
}

function draftOf(issue: LoadedIssue): Draft {
  const i = issue.policyIssue;
  return {
    status: i.status,
    priority: i.priority,
    assignee: i.assignedTo?.githubLogin ?? "",
    acceptedUntil: i.acceptedUntil ? i.acceptedUntil.slice(0, 10) : "",
    acceptanceReason: i.acceptanceReason ?? "",
  };
}

/** The end of a day (UTC) as the API takes it: 2027-03-31 → 2027-03-31T23:59:59Z. */
export function endOfDay(day: string): string {
  return `${day}T23:59:59Z`;
}

/** The fields of `draft` that differ from the issue: the PATCH body. */
export function triagePatch(issue: LoadedIssue, draft: Draft): UpdatePolicyIssueRequest {
  const now = draftOf(issue);
  const patch: UpdatePolicyIssueRequest = {};
  if (draft.status !== now.status) patch.status = draft.status as UpdatePolicyIssueRequest["status"];
  if (draft.priority !== now.priority) patch.priority = draft.priority as UpdatePolicyIssueRequest["priority"];
  if (draft.assignee !== now.assignee) patch.assignedTo = draft.assignee === "" ? null : draft.assignee;
  // An acceptance goes with ignored and by_design only; another status ends it on the server.
  if (accepting(draft.status) && (draft.acceptedUntil !== now.acceptedUntil || draft.acceptanceReason !== now.acceptanceReason)) {
    if (draft.acceptedUntil === "") {
      if (now.acceptedUntil !== "") patch.acceptedUntil = null;
    } else {
      patch.acceptedUntil = endOfDay(draft.acceptedUntil);
      patch.acceptanceReason = draft.acceptanceReason;
    }
  }
  return patch;
}

/**
 * Triage: status (not fixed, which only evaluations set), priority and
 * assignee, sent with If-Match. A 412 means someone else changed the issue
 * meanwhile: the form shows their values and offers to apply these changes
 * on top. Viewers see the form disabled, with the reason.
 */
export function IssueTriageForm({
  issue,
  assignees,
  onSaved,
}: {
  issue: LoadedIssue;
  assignees: Assignee[] | undefined;
  onSaved: (issue: LoadedIssue) => void;
}) {
  const { client, org, role } = useSession();
  const [draft, setDraft] = useState(() => draftOf(issue));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const [conflict, setConflict] = useState<{ patch: UpdatePolicyIssueRequest; theirs: LoadedIssue } | undefined>();
  const [forbidden, setForbidden] = useState<string | undefined>();
  useEffect(() => setDraft(draftOf(issue)), [issue.etag]);

  const readOnly = !canTriage(role) || forbidden !== undefined;
  const reason = forbidden ?? `Your role in ${org} is viewer: you can read issues but not triage them.`;
  const patch = triagePatch(issue, draft);
  const changed = Object.keys(patch).length > 0;
  const fixed = issue.policyIssue.status === "fixed";

  const send = async (body: UpdatePolicyIssueRequest, etag: string | undefined) => {
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const updated = await updateIssue(client, org, issue.policyIssue.id, body, { ifMatch: etag });
      setConflict(undefined);
      setSaved(true);
      onSaved(updated);
    } catch (err) {
      if (err instanceof PolicyResultsError && err.status === 412) {
        const theirs = await getIssue(client, org, issue.policyIssue.id);
        setConflict({ patch: body, theirs });
      } else if (err instanceof PolicyResultsError && err.status === 403) {
        setForbidden(errorText(err).replace(/^403: /, ""));
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card triage" aria-labelledby="triage-title">
      <h2 id="triage-title">Triage</h2>
      {readOnly && (
        <p class="notice notice-info" id="triage-readonly">
          {reason}
        </p>
      )}
      {conflict && (
        <div class="notice notice-warning" role="alert">
          <strong>Someone else changed this issue while you were editing.</strong>
          <p>
            It is now {statusLabel(conflict.theirs.policyIssue.status)}, priority {conflict.theirs.policyIssue.priority}, assigned to{" "}
            {conflict.theirs.policyIssue.assignedTo?.githubLogin ?? "nobody"}.
          </p>
          <div class="dialog-actions">
            <button
              type="button"
              class="button"
              onClick={() => {
                const theirs = conflict.theirs;
                setConflict(undefined);
                onSaved(theirs);
              }}
            >
              Keep their values
            </button>
            <button type="button" class="button button-primary" disabled={busy} onClick={() => send(conflict.patch, conflict.theirs.etag)}>
              Re-apply my changes
            </button>
          </div>
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (changed) void send(patch, issue.etag);
        }}
      >
        <fieldset disabled={readOnly || busy} aria-describedby={readOnly ? "triage-readonly" : undefined}>
          <legend class="visually-hidden">Triage fields</legend>
          <label>
            Status
            <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}>
              {fixed && (
                <option value="fixed" disabled>
                  Fixed (set by evaluations)
                </option>
              )}
              <StatusOptions />
            </select>
          </label>
          <label>
            Priority
            <select value={draft.priority} onChange={(e) => setDraft({ ...draft, priority: (e.target as HTMLSelectElement).value })}>
              <PriorityOptions />
            </select>
          </label>
          <label>
            Assignee
            {assignees ? (
              <select value={draft.assignee} onChange={(e) => setDraft({ ...draft, assignee: (e.target as HTMLSelectElement).value })}>
                <option value="">Unassigned</option>
                {draft.assignee !== "" && !assignees.some((a) => a.login === draft.assignee) && (
                  <option value={draft.assignee}>{draft.assignee}</option>
                )}
                {assignees.map((a) => (
                  <option key={a.login} value={a.login}>
                    {a.name && a.name !== a.login ? `${a.name} (${a.login})` : a.login}
                  </option>
                ))}
              </select>
            ) : (
              <input
                type="text"
                value={draft.assignee}
                placeholder="login or email"
                onInput={(e) => setDraft({ ...draft, assignee: (e.target as HTMLInputElement).value.trim() })}
              />
            )}
          </label>
          {accepting(draft.status) && (
            <>
              <AcceptanceFields
                value={draft}
                onChange={(a) => setDraft({ ...draft, ...a })}
                reasonLabel="Acceptance reason"
                requireReason
                reasonPlaceholder="why the risk is accepted"
              />
              <p class="muted">When the date passes, the issue opens again.</p>
            </>
          )}
          <div class="dialog-actions">
            <button type="button" class="button" disabled={!changed} onClick={() => setDraft(draftOf(issue))}>
              Reset
            </button>
            <button type="submit" class="button button-primary" disabled={!changed}>
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </fieldset>
      </form>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      {saved && !changed && (
        <p class="muted" role="status">
          Saved.
        </p>
      )}
    </section>
  );
}
