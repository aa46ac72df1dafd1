// The first rows of a grid page opened directly, read while the grid's code
// loads: the request goes out alongside the download instead of after it.
import { unwrap, type GridRequest, type ListPolicyIssuesResponse, type PolicyResultsClient } from "@policyresults/sdk";

let pending: { key: string; at: number; answer: Promise<ListPolicyIssuesResponse> } | undefined;

/** How long a prefetched answer may wait for the grid that asks for it. */
const freshFor = 10_000;

const keyOf = (org: string, request: GridRequest) => JSON.stringify([org, request]);

/** Starts reading `request`'s rows for the grid about to load. */
export function prefetchRows(client: PolicyResultsClient, org: string, request: GridRequest): void {
  const answer = client
    .POST("/api/orgs/{orgName}/policyresults/issues", { params: { path: { orgName: org } }, body: request })
    .then(unwrap);
  // A prefetch nobody takes must not be an unhandled rejection.
  answer.catch(() => undefined);
  pending = { key: keyOf(org, request), at: Date.now(), answer };
}

/** The prefetched answer of exactly this request, if fresh; each answer is taken once. */
export function takePrefetched(org: string, request: GridRequest): Promise<ListPolicyIssuesResponse> | undefined {
  const p = pending;
  pending = undefined;
  return p && p.key === keyOf(org, request) && Date.now() - p.at < freshFor ? p.answer : undefined;
}
