import { getIssue, unwrap } from "@policyresults/sdk";
import { useEffect, useState } from "preact/hooks";
import { Link } from "wouter-preact";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { HistoryTimeline } from "../components/HistoryTimeline";
import { IssueTriageForm, type Assignee, type LoadedIssue } from "../components/IssueTriageForm";
import { ErrorNotice, Loading } from "../components/StatusBlocks";
import { useAssignees } from "../app/members";
import { formatDate } from "../issues/format";
import { issuesHref, textEquals } from "../issues/view";

/** A link only for web addresses: a policy's url is ingested data, and a javascript: URL must never be clickable. */
export function SafeLink({ href }: { href: string }) {
  return /^https?:\/\//i.test(href) ? (
    <a href={href} rel="noopener noreferrer" target="_blank">
      {href}
    </a>
  ) : (
    <span>{href}</span>
  );
}

/** One issue: every field, its policy and pack, the resource, triage and the history. */
export function IssuePage({ issueId }: { issueId: string }) {
  const { client, org } = useSession();
  const loaded = useAsync((signal) => getIssue(client, org, issueId, { signal }), [client, org, issueId]);
  const [issue, setIssue] = useState<LoadedIssue | undefined>();
  useEffect(() => setIssue(loaded.data), [loaded.data]);
  const history = useAsync(
    async (signal) =>
      unwrap(
        await client.GET("/api/orgs/{orgName}/policyresults/issues/{issueId}/history", {
          params: { path: { orgName: org, issueId } },
          signal,
        }),
      ),
    [client, org, issueId, issue?.etag],
  );
  const assignees: Assignee[] | undefined = useAssignees();

  if (loaded.error) {
    return (
      <>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
          <Link href={issuesHref(org, {})}>Issues</Link>
        </nav>
        <ErrorNotice error={loaded.error} title="The issue could not be loaded" action={{ label: "Retry", run: loaded.reload }} />
      </>
    );
  }
  if (!issue) return <Loading label="Loading the issue" />;
  const i = issue.policyIssue;
  const policy = issue.policy;
  const stack = i.entityType === "stack";
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <Link href={issuesHref(org, {})}>Issues</Link> › <span class="mono">{i.id}</span>
      </nav>
      <div class="issue-layout">
        <article class="card">
          <h1 class="issue-title">{policy?.displayName || i.policyName}</h1>
          <div class="issue-badges">
            <SeverityBadge severity={i.severity} />
            <StatusBadge status={i.status} />
            <span class="badge sev-unset">{i.priority.toUpperCase()}</span>
            <span class="badge sev-unset">{i.kind}</span>
            <span class="badge sev-unset">{i.level}</span>
          </div>
          <h2 class="visually-hidden">Message</h2>
          <p class="message">{i.message || "No message."}</p>
          <dl class="fields">
            <dt>Resource</dt>
            <dd>
              {i.resourceName} <span class="muted">({i.resourceType})</span>
            </dd>
            <dt>Resource URN</dt>
            <dd class="mono">{i.resourceURN}</dd>
            <dt>Provider</dt>
            <dd>{i.resourceProvider || "—"}</dd>
            <dt>{stack ? "Stack" : "Account"}</dt>
            <dd>
              <Link
                href={issuesHref(org, {
                  filter: stack ? { entityProject: textEquals(i.entityProject), entityId: textEquals(i.entityId) } : { entityProject: textEquals(i.entityProject) },
                })}
              >
                {stack ? `${i.entityProject}/${i.entityId}` : i.entityProject}
              </Link>
              {!stack && <span class="muted"> · resource {i.entityId}</span>}
            </dd>
            <dt>{stack ? "Stack version" : "Resource version"}</dt>
            <dd>{(stack ? i.stackVersion : i.resourceVersion) ?? "—"}</dd>
            <dt>Policy pack</dt>
            <dd>
              {i.policyPack} <span class="muted">{i.policyPackTag}</span>
            </dd>
            <dt>Policy</dt>
            <dd class="mono">{i.policyName}</dd>
            <dt>Policy group</dt>
            <dd>
              {i.policyGroupName ?? "—"} {i.policyGroupType && <span class="muted">({i.policyGroupType})</span>}
            </dd>
            <dt>Assignee</dt>
            <dd>{i.assignedTo ? `${i.assignedTo.name} (${i.assignedTo.githubLogin})` : "Unassigned"}</dd>
            <dt>First observed</dt>
            <dd>{formatDate(i.observedAt)}</dd>
            <dt>Last modified</dt>
            <dd>{formatDate(i.lastModified)}</dd>
          </dl>
          <section class="section" aria-labelledby="policy-title">
            <h2 id="policy-title">Policy</h2>
            {policy ? (
              <>
                <p class="prose">{policy.description || "No description."}</p>
                {policy.remediationSteps && (
                  <>
                    <h3 class="muted">Remediation</h3>
                    <p class="prose">{policy.remediationSteps}</p>
                  </>
                )}
                {policy.framework?.name && (
                  <p class="muted">
                    Framework: {policy.framework.name} {policy.framework.version} {policy.framework.reference}
                  </p>
                )}
                {policy.url && (
                  <p>
                    More: <SafeLink href={policy.url} />
                  </p>
                )}
                {policy.tags && policy.tags.length > 0 && (
                  <ul class="tag-list" aria-label="Tags">
                    {policy.tags.map((t) => (
                      <li key={t}>{t}</li>
                    ))}
                  </ul>
                )}
              </>
            ) : (
              <p class="muted">The pack version {i.policyPackTag} is not published here, so its policy text is unknown.</p>
            )}
            {issue.policyPack && (
              <p class="muted">
                Pack {issue.policyPack.displayName || issue.policyPack.name} {issue.policyPack.version}, published by {issue.policyPack.publisher} ({issue.policyPack.source})
              </p>
            )}
          </section>
        </article>
        <div class="issue-side">
          <IssueTriageForm issue={issue} assignees={assignees} onSaved={setIssue} />
          <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">History</h2>
            {history.error ? (
              <ErrorNotice error={history.error} title="The history could not be loaded" />
            ) : !history.data ? (
              <Loading label="Loading the history" />
            ) : (
              <HistoryTimeline entries={history.data.entries} />
            )}
          </section>
        </div>
      </div>
    </>
  );
}
