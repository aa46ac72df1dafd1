import type { PolicyResultsClient, Schemas } from "@policyresults/sdk";
import { createContext } from "preact";
import { useContext } from "preact/hooks";

/** A role in an organisation, as GET /api/user names it. */
export type Role = NonNullable<Schemas["OrganizationSummary"]["role"]>;

/** The signed-in person, their organisation and the client to call the API with. */
export interface Session {
  client: PolicyResultsClient;
  user: Schemas["User"];
  /** The organisation every page shows. */
  org: string;
  /** The caller's role in org (undefined from a server that does not say). */
  role: Role | undefined;
  /** Switches to another of the user's organisations. */
  setOrg: (org: string) => void;
  /** Forgets the token and returns to sign-in. */
  signOut: (message?: string) => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** The session of a signed-in page. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}

/** True when the role may triage (member and admin; viewers read only). */
export function canTriage(role: Role | undefined): boolean {
  return role !== "viewer";
}
