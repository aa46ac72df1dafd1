/**
 * TypeScript client for the policyresults API, the self-hostable service that
 * speaks Pulumi Cloud's Policy Results API.
 *
 * The types in ./schema.ts are generated from openapi.yaml by
 * openapi-typescript (scripts/sdk-generate.sh); this module is a thin layer
 * over openapi-fetch: a client that authenticates the way Pulumi does, and a
 * few helpers for the operations that page or answer something other than
 * JSON.
 */
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** Every schema of openapi.yaml, by name. */
export type Schemas = components["schemas"];
/** One policy issue, as the issues grid and GetPolicyIssue answer it. */
export type PolicyIssue = Schemas["PolicyIssue"];
/** The AG Grid server-side row model request of the issues operations. */
export type GridRequest = Schemas["AngularGridGetRowsRequest"];
/** One page of ListPolicyIssues. */
export type ListPolicyIssuesResponse = Schemas["ListPolicyIssuesResponse"];
/** The body of UpdatePolicyIssue. */
export type UpdatePolicyIssueRequest = Schemas["UpdatePolicyIssueRequest"];
/** The body of BatchUpdatePolicyIssues: a selection (ids or filterModel), expectedCount and the fields to set. */
export type BatchUpdatePolicyIssuesRequest = Schemas["BatchUpdatePolicyIssuesRequest"];
/** What BatchUpdatePolicyIssues matched and changed. */
export type BatchUpdatePolicyIssuesResponse = Schemas["BatchUpdatePolicyIssuesResponse"];
/** An issue with its policy and policy pack (GetPolicyIssue, UpdatePolicyIssue). */
export type GetPolicyIssueResponse = Schemas["GetPolicyIssueResponse"];
/** One change in an issue's history. */
export type PolicyIssueHistoryEntry = Schemas["PolicyIssueHistoryEntry"];
/** One row of the compliance matrix. */
export type PolicyComplianceResult = Schemas["PolicyComplianceResult"];
/** What the compliance matrix is grouped by. */
export type ComplianceEntity = Schemas["GetPolicyComplianceResultsRequest"]["entity"];
/** Pulumi's error body. */
export type ErrorResponse = Schemas["ErrorResponse"];

/** A typed openapi-fetch client for every operation of openapi.yaml. */
export type PolicyResultsClient = Client<paths>;

/** Options of createPolicyResultsClient. */
export interface PolicyResultsClientOptions extends Omit<ClientOptions, "baseUrl" | "headers"> {
  /** The server's URL, e.g. "http://127.0.0.1:8080" (no /api suffix). */
  baseUrl: string;
  /** An access token ("pul-..."), sent as `Authorization: token <token>`. */
  token: string;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /**
   * Sends every request body gzip-compressed (`Content-Encoding: gzip`), as
   * the `pulumi` CLI does: JSON such as a large evaluation shrinks to a
   * fraction of its size on the wire. The server's body limit applies to the
   * decompressed body. Uses CompressionStream (Node.js 18+, current
   * browsers). Default false; see gzipRequestBodies to compress only some
   * requests.
   */
  compressRequestBodies?: boolean;
}

/**
 * Creates a client for the policyresults API. Every request carries
 * `Authorization: token <token>`, the form Pulumi's CLI sends.
 *
 * @example
 * const client = createPolicyResultsClient({ baseUrl: "http://127.0.0.1:8080", token });
 * const { data, error } = await client.POST("/api/orgs/{orgName}/policyresults/issues", {
 *   params: { path: { orgName: "acme" } },
 *   body: { startRow: 0, endRow: 100 },
 * });
 */
export function createPolicyResultsClient(options: PolicyResultsClientOptions): PolicyResultsClient {
  const { baseUrl, token, headers, compressRequestBodies, ...rest } = options;
  if (!token) {
    throw new TypeError("createPolicyResultsClient: token is required");
  }
  const client = createClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...headers, Authorization: `token ${token}` },
  });
  if (compressRequestBodies) {
    client.use(gzipRequestBodies);
  }
  return client;
}

/**
 * An openapi-fetch middleware that sends a request's body gzip-compressed
 * with `Content-Encoding: gzip`; a request without a body, or whose body
 * already has a Content-Encoding, is sent as it is. The option
 * `compressRequestBodies` installs it for every request; to compress one
 * request, pass it in that request's `middleware`.
 *
 * @example
 * await client.POST("/api/orgs/{orgName}/policyresults/evaluations", {
 *   params: { path: { orgName: "acme" } },
 *   body: evaluation,
 *   middleware: [gzipRequestBodies],
 * });
 */
export const gzipRequestBodies: Middleware = {
  async onRequest({ request }) {
    if (request.body === null || request.headers.has("Content-Encoding")) {
      return undefined;
    }
    const plain = new Blob([await request.clone().arrayBuffer()]);
    const compressed = await new Response(plain.stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const headers = new Headers(request.headers);
    headers.set("Content-Encoding", "gzip");
    return new Request(request, { body: compressed, headers });
  },
};

/** An error answer of the API: its HTTP status and Pulumi's error body. */
export class PolicyResultsError extends Error {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The server's request id (X-Pulumi-Request-ID), when it sent one. */
  readonly requestId: string | undefined;

  constructor(status: number, message: string, requestId?: string) {
    super(`policyresults: ${status}: ${message}`);
    this.name = "PolicyResultsError";
    this.status = status;
    this.requestId = requestId;
  }
}

/**
 * Returns the data of an openapi-fetch result, or throws a PolicyResultsError
 * carrying the status and message of an error answer.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { data, error, response } = result;
  if (error !== undefined || !response.ok) {
    const message =
      typeof error === "object" && error !== null && "message" in error
        ? String((error as { message: unknown }).message)
        : response.statusText || "request failed";
    throw new PolicyResultsError(response.status, message, response.headers.get("X-Pulumi-Request-ID") ?? undefined);
  }
  return data as T;
}

/** Options of the paging helpers. */
export interface PageOptions {
  /** Rows asked for per request (default 1000, the server's largest page). */
  pageSize?: number;
  /** Aborts the paging between (and during) requests. */
  signal?: AbortSignal;
}

/**
 * Yields the pages of policy issues matching `request` (its filterModel and
 * sortModel; startRow and endRow are set by the pager) the way `pulumi policy
 * issue list --all` pages: `startRow` advances by the length of each page
 * until `rowCount` rows were read or a page is empty.
 */
export async function* iterateIssuePages(
  client: PolicyResultsClient,
  orgName: string,
  request: Omit<GridRequest, "startRow" | "endRow"> = {},
  options: PageOptions = {},
): AsyncGenerator<ListPolicyIssuesResponse, void, undefined> {
  const pageSize = options.pageSize ?? 1000;
  let startRow = 0;
  for (;;) {
    const page = unwrap(
      await client.POST("/api/orgs/{orgName}/policyresults/issues", {
        params: { path: { orgName } },
        body: { ...request, startRow, endRow: startRow + pageSize },
        signal: options.signal,
      }),
    );
    if (page.policyIssues.length === 0) {
      return;
    }
    yield page;
    startRow += page.policyIssues.length;
    if (page.rowCount !== undefined && startRow >= page.rowCount) {
      return;
    }
  }
}

/** Every policy issue matching a grid request, with the server's rowCount. */
export interface AllIssues {
  /** The issues in the request's order. */
  issues: PolicyIssue[];
  /** The server's count of matching rows, as of the last page read. */
  rowCount: number;
  /** The number of pages read. */
  pages: number;
}

/** Reads every policy issue matching `request`, paging with iterateIssuePages. */
export async function listAllIssues(
  client: PolicyResultsClient,
  orgName: string,
  request: Omit<GridRequest, "startRow" | "endRow"> = {},
  options: PageOptions = {},
): Promise<AllIssues> {
  const all: AllIssues = { issues: [], rowCount: 0, pages: 0 };
  for await (const page of iterateIssuePages(client, orgName, request, options)) {
    all.issues.push(...page.policyIssues);
    all.rowCount = page.rowCount ?? all.issues.length;
    all.pages++;
  }
  return all;
}

/**
 * Exports the policy issues matching `request` as CSV (RFC 4180, a header
 * row of PolicyIssue field names), the whole result unless startRow/endRow
 * are given.
 */
export async function exportIssuesCsv(
  client: PolicyResultsClient,
  orgName: string,
  request: GridRequest = {},
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  return unwrap(
    await client.POST("/api/orgs/{orgName}/policyresults/issues/export", {
      params: { path: { orgName } },
      body: request,
      parseAs: "text",
      headers: { Accept: "text/csv" },
      signal: options.signal,
    }),
  );
}

/**
 * Reads one issue with its policy and policy pack, and its ETag: pass the
 * ETag to updateIssue as `ifMatch` so that a change someone made meanwhile
 * is answered 412 instead of being overwritten.
 */
export async function getIssue(
  client: PolicyResultsClient,
  orgName: string,
  issueId: string,
  options: { signal?: AbortSignal } = {},
): Promise<GetPolicyIssueResponse & { etag: string | undefined }> {
  const result = await client.GET("/api/orgs/{orgName}/policyresults/issues/{issueId}", {
    params: { path: { orgName, issueId } },
    signal: options.signal,
  });
  const data = unwrap(result);
  return { ...data, etag: result.response.headers.get("ETag") ?? undefined };
}

/**
 * Updates an issue's triage fields (status, priority, assignedTo). With
 * `ifMatch` (the ETag of getIssue), a concurrent change is answered 412.
 * Returns the updated issue and its new ETag.
 */
export async function updateIssue(
  client: PolicyResultsClient,
  orgName: string,
  issueId: string,
  patch: UpdatePolicyIssueRequest,
  options: { ifMatch?: string; signal?: AbortSignal } = {},
): Promise<GetPolicyIssueResponse & { etag: string | undefined }> {
  const result = await client.PATCH("/api/orgs/{orgName}/policyresults/issues/{issueId}", {
    params: {
      path: { orgName, issueId },
      header: options.ifMatch === undefined ? undefined : { "If-Match": options.ifMatch },
    },
    body: patch,
    signal: options.signal,
  });
  const data = unwrap(result);
  return { ...data, etag: result.response.headers.get("ETag") ?? undefined };
}

/**
 * Thrown by batchUpdateIssues when the selection no longer matches
 * expectedCount (409): nothing was written; `matched` is the current count.
 */
export class BatchCountError extends PolicyResultsError {
  /** The number of issues the selection matches now. */
  readonly matched: number;

  constructor(message: string, matched: number, requestId?: string) {
    super(409, message, requestId);
    this.name = "BatchCountError";
    this.matched = matched;
  }
}

/**
 * Triages every issue of a selection at once, all or nothing
 * (BatchUpdatePolicyIssues). Throws BatchCountError when the selection
 * matches another number than `body.expectedCount`, PolicyResultsError on
 * other refusals.
 *
 * @example
 * await batchUpdateIssues(client, "acme", { ids, expectedCount: ids.length, status: "in_progress" });
 */
export async function batchUpdateIssues(
  client: PolicyResultsClient,
  orgName: string,
  body: BatchUpdatePolicyIssuesRequest,
  options: { signal?: AbortSignal } = {},
): Promise<BatchUpdatePolicyIssuesResponse> {
  const result = await client.POST("/api/orgs/{orgName}/policyresults/issues/batch", {
    params: { path: { orgName } },
    body,
    signal: options.signal,
  });
  if (result.response.status === 409 && result.error && typeof result.error === "object" && "matched" in result.error) {
    const e = result.error as { message: string; matched: number };
    throw new BatchCountError(e.message, e.matched, result.response.headers.get("X-Pulumi-Request-ID") ?? undefined);
  }
  return unwrap(result);
}

/** The whole compliance matrix: its columns and every row. */
export interface ComplianceMatrix {
  /** Policy pack names, the order of each row's scores. */
  columns: string[];
  /** One row per entity, ordered by entityName. */
  rows: PolicyComplianceResult[];
}

/**
 * Reads the whole compliance matrix grouped by `entity`, following
 * continuationToken until it is absent or empty, as `pulumi policy
 * compliance list` does.
 */
export async function getComplianceMatrix(
  client: PolicyResultsClient,
  orgName: string,
  entity: ComplianceEntity,
  options: PageOptions = {},
): Promise<ComplianceMatrix> {
  const size = options.pageSize ?? 1000;
  const matrix: ComplianceMatrix = { columns: [], rows: [] };
  let continuationToken: string | undefined;
  do {
    const page = unwrap(
      await client.POST("/api/orgs/{orgName}/policyresults/compliance", {
        params: { path: { orgName } },
        body: { entity, size, ...(continuationToken ? { continuationToken } : {}) },
        signal: options.signal,
      }),
    );
    matrix.columns = page.columns;
    matrix.rows.push(...page.rows);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return matrix;
}

/** A member of an organisation (ListOrganizationMembers). */
export type OrganizationMember = Schemas["OrganizationMember"];

/**
 * Reads every member of an organisation (its users, by login), following
 * continuationToken: the choices of an issue's assignee.
 */
export async function listOrganizationMembers(
  client: PolicyResultsClient,
  orgName: string,
  options: { signal?: AbortSignal } = {},
): Promise<OrganizationMember[]> {
  const members: OrganizationMember[] = [];
  let continuationToken: string | undefined;
  do {
    const page = unwrap(
      await client.GET("/api/orgs/{orgName}/members", {
        params: { path: { orgName }, query: continuationToken ? { continuationToken } : {} },
        signal: options.signal,
      }),
    );
    members.push(...page.members);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return members;
}

/** Type of an operation's JSON answer by operation id, e.g. `Answer<"ListPolicyIssues">`. */
export type Answer<Op extends keyof operations> = operations[Op]["responses"] extends {
  200: { content: { "application/json": infer T } };
}
  ? T
  : never;
