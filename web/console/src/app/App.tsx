import { unwrap, type Schemas } from "@policyresults/sdk";
import { lazy, Suspense } from "preact/compat";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { Route, Switch, useLocation, useSearch } from "wouter-preact";

import { AppShell } from "../components/AppShell";
import { Loading, ErrorNotice } from "../components/StatusBlocks";
import { SignIn } from "../components/SignIn";
import { OverviewPage } from "../pages/OverviewPage";
import { prefetchRows } from "../issues/prefetch";
import { gridPageSize, rowsRequest, showsGroups, viewFromSearch } from "../issues/view";
import { createClient, forgetToken, loadOrg, loadToken, saveOrg, saveToken } from "./session";
import { SessionContext, type Session } from "./SessionContext";

// The grid and its library load when a grid page is first opened, so the
// overview's first paint does not wait for them. Opened directly, the grid
// page's code starts loading at once, alongside the sign-in call.
const loadIssuesPage = () => import("../pages/IssuesPage");
if (window.location.pathname === "/issues") void loadIssuesPage();
const IssuesPage = lazy(() => loadIssuesPage().then((m) => m.IssuesPage));
const IssuePage = lazy(() => import("../pages/IssuePage").then((m) => m.IssuePage));
const PoliciesPage = lazy(() => import("../pages/PoliciesPage").then((m) => m.PoliciesPage));
const PacksPage = lazy(() => import("../pages/PacksPage").then((m) => m.PacksPage));
const GroupsPage = lazy(() => import("../pages/GroupsPage").then((m) => m.GroupsPage));
const GroupPage = lazy(() => import("../pages/GroupPage").then((m) => m.GroupPage));
const WebhooksPage = lazy(() => import("../pages/WebhooksPage").then((m) => m.WebhooksPage));

const expiredMessage = "You were signed out: the server refused the token (it is invalid, expired or revoked). Sign in again.";

export function App() {
  const [token, setToken] = useState(() => loadToken()?.token);
  const [message, setMessage] = useState<string | undefined>();
  const [user, setUser] = useState<Schemas["User"] | undefined>();
  const [loadError, setLoadError] = useState<unknown>();

  const signOut = useCallback((why?: string) => {
    forgetToken();
    setToken(undefined);
    setUser(undefined);
    setMessage(why);
  }, []);
  const client = useMemo(() => (token ? createClient(token, () => signOut(expiredMessage)) : undefined), [token, signOut]);

  useEffect(() => {
    if (!client || user) return;
    setLoadError(undefined);
    client.GET("/api/user").then(
      (r) => {
        if (r.response.status !== 401) setUser(unwrap(r));
      },
      (err: unknown) => setLoadError(err),
    );
  }, [client, user]);

  if (!token || !client) {
    return (
      <SignIn
        message={message}
        onSignIn={(t, keep, u) => {
          saveToken(t, keep);
          setMessage(undefined);
          setUser(u);
          setToken(t);
        }}
      />
    );
  }
  if (loadError) return <ErrorNotice error={loadError} title="The server could not be reached" />;
  if (!user) return <Loading label="Signing in" />;
  return <SignedIn client={client} user={user} signOut={signOut} />;
}

function SignedIn({ client, user, signOut }: Pick<Session, "client" | "user" | "signOut">) {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const orgs = user.organizations;
  const wanted = new URLSearchParams(search).get("org") ?? loadOrg();
  const current = orgs.find((o) => o.githubLogin === wanted) ?? orgs[0];
  const org = current?.githubLogin;
  useEffect(() => {
    if (org) saveOrg(org);
  }, [org]);
  // A grid page opened directly reads its first rows while its code loads.
  useState(() => {
    const view = viewFromSearch(search);
    if (org && location === "/issues" && !showsGroups(view)) prefetchRows(client, org, rowsRequest(view, 0, gridPageSize));
  });
  const setOrg = useCallback((next: string) => navigate(`/?org=${encodeURIComponent(next)}`), [navigate]);
  const session = useMemo<Session | undefined>(
    () => (org ? { client, user, org, role: current?.role, setOrg, signOut } : undefined),
    [client, user, org, current?.role, setOrg, signOut],
  );
  if (!session) {
    return (
      <ErrorNotice
        title="No organisation"
        error={`${user.githubLogin} belongs to no organisation. Ask an administrator to add you (policyresults user create … --org ORG).`}
        action={{ label: "Sign out", run: () => signOut() }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <AppShell location={location}>
        <Suspense fallback={<Loading label="Loading the page" />}>
          <Switch>
            <Route path="/" component={OverviewPage} />
            <Route path="/issues" component={IssuesPage} />
            <Route path="/issues/:issueId">{(p: { issueId: string }) => <IssuePage issueId={p.issueId} />}</Route>
            <Route path="/policies" component={PoliciesPage} />
            <Route path="/policypacks" component={PacksPage} />
            <Route path="/policygroups" component={GroupsPage} />
            <Route path="/policygroups/:name">{(p: { name: string }) => <GroupPage name={decodeURIComponent(p.name)} />}</Route>
            <Route path="/webhooks" component={WebhooksPage} />
            <Route>
              <ErrorNotice title="Page not found" error="There is no such page in the console." />
            </Route>
          </Switch>
        </Suspense>
      </AppShell>
    </SessionContext.Provider>
  );
}
