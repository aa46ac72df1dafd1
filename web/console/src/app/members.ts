import type { Assignee } from "../components/IssueTriageForm";

/**
 * The organisation's members who can be assigned issues. Until the server
 * offers Pulumi's ListOrganizationMembers the triage form takes a login or
 * email as text (undefined here).
 */
export function useAssignees(): Assignee[] | undefined {
  return undefined;
}
