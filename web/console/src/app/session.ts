// The access token's lifetime in the browser. It is kept in sessionStorage
// (this tab, until it closes) or, when the person asks to stay signed in, in
// localStorage; it is only ever sent in the Authorization header by the SDK's
// client, never in a URL, a cookie or a log line.
import { createPolicyResultsClient, type PolicyResultsClient } from "@policyresults/sdk";

const tokenKey = "policyresults.token";
const orgKey = "policyresults.org";

/** A token read back from the browser's storage. */
export interface StoredToken {
  token: string;
  /** True when it is in localStorage ("keep me signed in"). */
  persistent: boolean;
}

function storage(kind: "session" | "local"): Storage | undefined {
  try {
    return kind === "session" ? window.sessionStorage : window.localStorage;
  } catch {
    // Storage can be disabled by the browser's settings.
    return undefined;
  }
}

/** Returns the token this browser keeps, if any. */
export function loadToken(): StoredToken | undefined {
  const session = storage("session")?.getItem(tokenKey);
  if (session) return { token: session, persistent: false };
  const local = storage("local")?.getItem(tokenKey);
  if (local) return { token: local, persistent: true };
  return undefined;
}

/** Keeps the token in exactly one of the two storages. */
export function saveToken(token: string, persistent: boolean): void {
  forgetToken();
  storage(persistent ? "local" : "session")?.setItem(tokenKey, token);
}

/** Forgets the token everywhere (sign out, or a 401). */
export function forgetToken(): void {
  storage("session")?.removeItem(tokenKey);
  storage("local")?.removeItem(tokenKey);
}

/** The organisation chosen last, to open next time. */
export function loadOrg(): string | undefined {
  return storage("local")?.getItem(orgKey) ?? undefined;
}

export function saveOrg(org: string): void {
  storage("local")?.setItem(orgKey, org);
}

/**
 * Creates the SDK client for a token. Every answer passes through
 * onUnauthorized when it is a 401, so that any call of any page can end the
 * session.
 */
export function createClient(token: string, onUnauthorized: () => void): PolicyResultsClient {
  const client = createPolicyResultsClient({ baseUrl: window.location.origin, token });
  client.use({
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return undefined;
    },
  });
  return client;
}
