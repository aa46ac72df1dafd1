import type { ComponentChildren } from "preact";
import { Link } from "wouter-preact";

import { useSession } from "../app/SessionContext";

const sections = [
  { href: "/", label: "Overview", match: (p: string) => p === "/" },
  { href: "/issues", label: "Issues", match: (p: string) => p.startsWith("/issues") },
  { href: "/policies", label: "Policies", match: (p: string) => p.startsWith("/policies") },
  { href: "/policypacks", label: "Policy packs", match: (p: string) => p.startsWith("/policypacks") },
  { href: "/policygroups", label: "Policy groups", match: (p: string) => p.startsWith("/policygroups") },
  { href: "/webhooks", label: "Webhooks", match: (p: string) => p.startsWith("/webhooks") },
];

/** The frame of every signed-in page: navigation on the left, the header with the organisation and sign out. */
export function AppShell({ location, children }: { location: string; children: ComponentChildren }) {
  const { user, org, role, signOut } = useSession();
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <nav class="sidenav" aria-label="Console">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            P
          </span>
          policyresults
        </div>
        <ul>
          {sections.map((s) => (
            <li key={s.href}>
              <Link
                href={`${s.href}?org=${encodeURIComponent(org)}`}
                aria-current={s.match(location) ? "page" : undefined}
                class={s.match(location) ? "active" : undefined}
              >
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
        <a class="sidenav-foot" href="/docs">
          API reference
        </a>
      </nav>
      <header class="topbar">
        <OrgSwitcher />
        <div class="topbar-user">
          <span class="user-name">{user.name || user.githubLogin}</span>
          {role && <span class={`role role-${role}`}>{role}</span>}
          <button type="button" class="button button-quiet" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" class="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** Chooses among the organisations of GET /api/user. */
function OrgSwitcher() {
  const { user, org, setOrg } = useSession();
  const orgs = user.organizations;
  return (
    <div class="org-switcher">
      <label for="org-switcher">Organisation</label>
      {orgs.length > 1 ? (
        <select id="org-switcher" value={org} onChange={(e) => setOrg((e.target as HTMLSelectElement).value)}>
          {orgs.map((o) => (
            <option key={o.githubLogin} value={o.githubLogin}>
              {o.name || o.githubLogin}
            </option>
          ))}
        </select>
      ) : (
        <output id="org-switcher" class="org-name">
          {org}
        </output>
      )}
    </div>
  );
}
