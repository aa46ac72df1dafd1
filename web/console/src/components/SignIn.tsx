import { createPolicyResultsClient, PolicyResultsError, unwrap, type Schemas } from "@policyresults/sdk";
import { useState } from "preact/hooks";

import { errorText } from "./StatusBlocks";

/**
 * The sign-in page: an access token (the one `make run` prints, or one from
 * `policyresults token create`), checked against GET /api/user before it is
 * kept.
 */
export function SignIn({
  message,
  onSignIn,
}: {
  message?: string | undefined;
  onSignIn: (token: string, keep: boolean, user: Schemas["User"]) => void;
}) {
  const [token, setToken] = useState("");
  const [keep, setKeep] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError("Enter an access token.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const client = createPolicyResultsClient({ baseUrl: window.location.origin, token: t });
      const user = unwrap(await client.GET("/api/user"));
      onSignIn(t, keep, user);
    } catch (err) {
      setError(
        err instanceof PolicyResultsError && err.status === 401
          ? "The server refused this token: it is invalid, expired or revoked."
          : errorText(err),
      );
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form class="signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true">
            P
          </span>
          policyresults
        </div>
        <h1 id="signin-title">Sign in</h1>
        {message && (
          <p class="notice notice-warning" role="alert">
            {message}
          </p>
        )}
        <label for="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="pul-…"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
          aria-invalid={error ? true : undefined}
          autoFocus
        />
        <p id="token-help" class="help">
          The token <code>make run</code> prints, or one from <code>policyresults token create</code>. It stays in this
          browser and is sent only in the Authorization header.
        </p>
        <label class="checkbox">
          <input type="checkbox" checked={keep} onChange={(e) => setKeep((e.target as HTMLInputElement).checked)} />
          Keep me signed in on this computer
        </label>
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
