import { listOrganizationMembers } from "@policyresults/sdk";

import type { Assignee } from "../components/IssueTriageForm";
import { useAsync } from "./useAsync";
import { useSession } from "./SessionContext";

/**
 * The organisation's members, who can be assigned issues (Pulumi's
 * ListOrganizationMembers). Undefined while they load or when they could not
 * be read; the triage form then takes a login or email as text.
 */
export function useAssignees(): Assignee[] | undefined {
  const { client, org } = useSession();
  const members = useAsync(async (signal) => listOrganizationMembers(client, org, { signal }), [client, org]);
  return members.data?.map((m) => ({ login: m.user.githubLogin, name: m.user.name }));
}
