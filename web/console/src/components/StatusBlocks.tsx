import { PolicyResultsError } from "@policyresults/sdk";
import type { ComponentChildren } from "preact";

/** A loading placeholder that screen readers announce. */
export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div class="status-block" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}…
    </div>
  );
}

/** The text of an error for a person: the server's message when it sent one. */
export function errorText(error: unknown): string {
  if (error instanceof PolicyResultsError) return error.message.replace(/^policyresults: /, "");
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An error with what happened and, optionally, something to do about it. */
export function ErrorNotice({
  error,
  title = "Something went wrong",
  action,
}: {
  error: unknown;
  title?: string;
  action?: { label: string; run: () => void };
}) {
  return (
    <div class="notice notice-error" role="alert">
      <strong>{title}</strong>
      <p>{errorText(error)}</p>
      {action && (
        <button type="button" class="button" onClick={action.run}>
          {action.label}
        </button>
      )}
    </div>
  );
}

/** What a page shows when there is nothing to show. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children && <p>{children}</p>}
    </div>
  );
}
