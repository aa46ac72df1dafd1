import { unwrap, type Schemas } from "@policyresults/sdk";
import { useState } from "preact/hooks";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { Empty, ErrorNotice, Loading, errorText } from "../components/StatusBlocks";

type Webhook = Schemas["Webhook"];
type Delivery = Schemas["WebhookDelivery"];

/** The filters the form offers: Pulumi's two policy violation filters and policyresults' own. */
const filterChoices: { value: Schemas["WebhookFilter"]; label: string }[] = [
  { value: "policy_violation_mandatory", label: "Mandatory violations (opened or reopened)" },
  { value: "policy_violation_advisory", label: "Advisory violations (opened or reopened)" },
  { value: "policy_issue_opened", label: "Issues opened" },
  { value: "policy_issue_reopened", label: "Issues reopened" },
  { value: "policy_issue_fixed", label: "Issues fixed" },
  { value: "policy_issue_triaged", label: "Issues triaged by a person" },
  { value: "policy_acceptance_expired", label: "Accepted risks expired" },
];

interface Draft {
  displayName: string;
  payloadUrl: string;
  secret: string;
  format: Schemas["WebhookFormat"];
  filters: Schemas["WebhookFilter"][];
  minimumSeverity: Schemas["WebhookMinimumSeverity"];
}

const emptyDraft: Draft = { displayName: "", payloadUrl: "", secret: "", format: "raw", filters: [], minimumSeverity: "" };

function draftOf(h: Webhook): Draft {
  return {
    displayName: h.displayName,
    payloadUrl: h.payloadUrl,
    secret: "",
    format: h.format ?? "raw",
    filters: h.filters ?? [],
    minimumSeverity: h.minimumSeverity ?? "",
  };
}

/** The organisation's webhooks (GET /hooks), for admins: create, edit, ping, deactivate, and each one's deliveries. */
export function WebhooksPage() {
  const { client, org, role } = useSession();
  const [editing, setEditing] = useState<Webhook | "new" | undefined>();
  const hooks = useAsync(
    async (signal) =>
      role === "admin" ? unwrap(await client.GET("/api/orgs/{orgName}/hooks", { params: { path: { orgName: org } }, signal })) : [],
    [client, org, role],
  );
  if (role !== "admin") {
    return (
      <>
        <h1 class="page-title">Webhooks</h1>
        <p class="notice notice-info">Only admins of {org} manage webhooks: they name where policy events are sent.</p>
      </>
    );
  }
  return (
    <>
      <div class="section-head">
        <h1 class="page-title">Webhooks</h1>
        <button type="button" class="button button-primary" onClick={() => setEditing("new")}>
          New webhook
        </button>
      </div>
      {editing && (
        <WebhookForm
          hook={editing === "new" ? undefined : editing}
          onDone={(saved) => {
            setEditing(undefined);
            if (saved) hooks.reload();
          }}
        />
      )}
      {hooks.error ? (
        <ErrorNotice error={hooks.error} title="The webhooks could not be loaded" action={{ label: "Retry", run: hooks.reload }} />
      ) : !hooks.data ? (
        <Loading label="Loading the webhooks" />
      ) : hooks.data.length === 0 ? (
        <Empty title="No webhooks">Create one to send policy events to your receiver, Slack or Microsoft Teams.</Empty>
      ) : (
        <div class="group-cards">
          {hooks.data.map((h) => (
            <WebhookCard key={h.name} hook={h} onEdit={() => setEditing(h)} onChanged={hooks.reload} />
          ))}
        </div>
      )}
    </>
  );
}

function WebhookCard({ hook, onEdit, onChanged }: { hook: Webhook; onEdit: () => void; onChanged: () => void }) {
  const { client, org } = useSession();
  const name = hook.name ?? "";
  const path = { orgName: org, hookName: name };
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [shown, setShown] = useState(false);
  const [pinged, setPinged] = useState<Delivery | undefined>();
  const deliveries = useAsync(
    async (signal) =>
      shown ? unwrap(await client.GET("/api/orgs/{orgName}/hooks/{hookName}/deliveries", { params: { path }, signal })) : undefined,
    [client, org, name, shown, pinged],
  );
  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await what();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const ping = () =>
    run(async () => setPinged(unwrap(await client.POST("/api/orgs/{orgName}/hooks/{hookName}/ping", { params: { path } }))));
  const setActive = (active: boolean) =>
    run(async () => {
      unwrap(await client.PATCH("/api/orgs/{orgName}/hooks/{hookName}", { params: { path }, body: { active } }));
      onChanged();
    });
  const active = hook.active ?? true;
  return (
    <section class="card" aria-label={`Webhook ${hook.displayName}`}>
      <div class="section-head">
        <h2>{hook.displayName}</h2>
        <span class={active ? "role role-member" : "role role-viewer"}>{active ? "active" : "inactive"}</span>
      </div>
      <dl class="fields">
        <dt>Name</dt>
        <dd class="mono">{name}</dd>
        <dt>URL</dt>
        <dd class="mono">{hook.payloadUrl}</dd>
        <dt>Format</dt>
        <dd>{hook.format}</dd>
        <dt>Events</dt>
        <dd>{hook.filters && hook.filters.length > 0 ? hook.filters.join(", ") : "every event"}</dd>
        <dt>Minimum severity</dt>
        <dd>{hook.minimumSeverity || "any"}</dd>
        <dt>Signed</dt>
        <dd>{hook.hasSecret ? "yes (a secret is set)" : "no"}</dd>
      </dl>
      {hook.deactivatedReason && (
        <p class="notice notice-warning" role="status">
          Deactivated by the server: {hook.deactivatedReason}
        </p>
      )}
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      {pinged && (
        <p class="notice notice-info" role="status">
          Ping: {pinged.responseCode ? `HTTP ${pinged.responseCode}` : (pinged.error ?? "no answer")} in {pinged.duration} ms
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" class="button" disabled={busy} onClick={() => void ping()}>
          Ping
        </button>
        <button type="button" class="button" disabled={busy} onClick={onEdit}>
          Edit
        </button>
        <button type="button" class="button" disabled={busy} onClick={() => void setActive(!active)}>
          {active ? "Deactivate" : "Activate"}
        </button>
        <button type="button" class="button button-quiet" aria-expanded={shown} onClick={() => setShown(!shown)}>
          {shown ? "Hide deliveries" : "Deliveries"}
        </button>
      </div>
      {shown &&
        (deliveries.error ? (
          <ErrorNotice error={deliveries.error} title="The deliveries could not be loaded" />
        ) : !deliveries.data ? (
          <Loading label="Loading the deliveries" />
        ) : deliveries.data.length === 0 ? (
          <Empty title="No deliveries in the last 30 days" />
        ) : (
          <DeliveryTable deliveries={deliveries.data} />
        ))}
    </section>
  );
}

function DeliveryTable({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Deliveries">
      <table class="data-table deliveries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Response
            </th>
            <th scope="col" class="num">
              ms
            </th>
            <th scope="col">Body or error</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d, i) => (
            <tr key={`${d.id}-${d.attempt ?? i}`}>
              <td title={d.id}>{new Date(d.timestamp * 1000).toLocaleString()}</td>
              <td>{d.kind}</td>
              <td>
                {d.state ?? ""}
                {d.attempt && d.attempt > 1 ? ` (attempt ${d.attempt})` : ""}
              </td>
              <td class="num">{d.responseCode || "—"}</td>
              <td class="num">{d.duration}</td>
              <td class="mono">{(d.error ?? d.responseBody).slice(0, 200)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Creates a webhook, or edits one (an empty secret keeps the one set). */
function WebhookForm({ hook, onDone }: { hook: Webhook | undefined; onDone: (saved: boolean) => void }) {
  const { client, org } = useSession();
  const [draft, setDraft] = useState<Draft>(() => (hook ? draftOf(hook) : emptyDraft));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const fields = {
        displayName: draft.displayName,
        payloadUrl: draft.payloadUrl,
        format: draft.format,
        filters: draft.filters,
        minimumSeverity: draft.minimumSeverity,
      };
      if (hook?.name) {
        const body = draft.secret ? { ...fields, secret: draft.secret } : fields;
        unwrap(await client.PATCH("/api/orgs/{orgName}/hooks/{hookName}", { params: { path: { orgName: org, hookName: hook.name } }, body }));
      } else {
        const body = draft.secret ? { ...fields, secret: draft.secret, active: true } : { ...fields, active: true };
        unwrap(await client.POST("/api/orgs/{orgName}/hooks", { params: { path: { orgName: org } }, body }));
      }
      onDone(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card triage" aria-labelledby="webhook-form-title">
      <h2 id="webhook-form-title">{hook ? `Edit ${hook.displayName}` : "New webhook"}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset disabled={busy}>
          <legend class="visually-hidden">Webhook fields</legend>
          <label>
            Display name
            <input id="hook-display-name" required value={draft.displayName} onInput={(e) => set({ displayName: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Payload URL
            <input
              id="hook-url"
              type="url"
              required
              placeholder="https://hooks.example.com/policy"
              value={draft.payloadUrl}
              onInput={(e) => set({ payloadUrl: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            Secret {hook?.hasSecret ? "(leave empty to keep the one set)" : "(optional: signs deliveries)"}
            <input id="hook-secret" type="password" autoComplete="new-password" value={draft.secret} onInput={(e) => set({ secret: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Format
            <select id="hook-format" value={draft.format} onChange={(e) => set({ format: (e.target as HTMLSelectElement).value as Draft["format"] })}>
              <option value="raw">JSON (raw)</option>
              <option value="slack">Slack</option>
              <option value="ms_teams">Microsoft Teams</option>
            </select>
          </label>
          <fieldset>
            <legend>Events (none checked: every event)</legend>
            {filterChoices.map((f) => (
              <label key={f.value} class="checkbox">
                <input
                  type="checkbox"
                  checked={draft.filters.includes(f.value)}
                  onChange={(e) =>
                    set({
                      filters: (e.target as HTMLInputElement).checked ? [...draft.filters, f.value] : draft.filters.filter((v) => v !== f.value),
                    })
                  }
                />{" "}
                {f.label}
              </label>
            ))}
          </fieldset>
          <label>
            Minimum severity
            <select
              id="hook-severity"
              value={draft.minimumSeverity}
              onChange={(e) => set({ minimumSeverity: (e.target as HTMLSelectElement).value as Draft["minimumSeverity"] })}
            >
              <option value="">Any</option>
              <option value="low">Low</option>
              <option value="medium">Medium</option>
              <option value="high">High</option>
              <option value="critical">Critical</option>
            </select>
          </label>
          {error && (
            <p class="field-error" role="alert">
              {error}
            </p>
          )}
          <div class="dialog-actions">
            <button type="button" class="button" onClick={() => onDone(false)}>
              Cancel
            </button>
            <button type="submit" class="button button-primary">
              {hook ? "Save" : "Create"}
            </button>
          </div>
        </fieldset>
      </form>
    </section>
  );
}
