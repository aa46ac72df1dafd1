// End-to-end tests of the SDK against the real server (embedded SQLite,
// demo organisation "acme", its admin alice's token).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";

import {
  createPolicyResultsClient,
  exportIssuesCsv,
  getComplianceMatrix,
  gzipRequestBodies,
  listAllIssues,
  PolicyResultsError,
  unwrap,
  updateIssue,
  getIssue,
  batchUpdateIssues,
  BatchCountError,
  listOrganizationMembers,
  type GridRequest,
  type PolicyIssue,
  type PolicyResultsClient,
} from "../src/index.js";
import { parseCsv, startServer, type TestServer } from "./server.js";

const org = "acme";

// The CSV header is PolicyIssue's field names; the `satisfies` and the
// check below fail the compilation when the spec adds or renames a field.
const issueFields = [
  "id",
  "entityType",
  "entityProject",
  "entityId",
  "stackVersion",
  "resourceVersion",
  "policyPack",
  "policyPackTag",
  "policyName",
  "resourceURN",
  "resourceProvider",
  "resourceType",
  "resourceName",
  "message",
  "observedAt",
  "lastModified",
  "level",
  "severity",
  "status",
  "kind",
  "priority",
  "assignedTo",
  "policyGroupName",
  "policyGroupType",
  "acceptedUntil",
  "acceptanceReason",
] as const satisfies readonly (keyof PolicyIssue)[];
const everyFieldListed: Exclude<keyof PolicyIssue, (typeof issueFields)[number]> extends never ? true : false = true;

const criticalOrHigh: GridRequest = {
  filterModel: {
    filterType: "join",
    type: "AND",
    conditions: [{ filterType: "set", colId: "severity", type: "isAnyOf", values: ["critical", "high"] }],
  },
  sortModel: [
    { colId: "observedAt", sort: "desc" },
    { colId: "id", sort: "asc" },
  ],
};

describe("policyresults TypeScript SDK", () => {
  let server: TestServer;
  let client: PolicyResultsClient;

  before(async () => {
    server = await startServer();
    client = createPolicyResultsClient({ baseUrl: server.baseUrl, token: server.token });
  });

  after(async () => {
    await server?.stop();
  });

  test("the generated types cover every CSV column", () => {
    assert.equal(everyFieldListed, true);
  });

  test("lists issues with a filter and a sort", async () => {
    const { data, error, response } = await client.POST("/api/orgs/{orgName}/policyresults/issues", {
      params: { path: { orgName: org } },
      body: { ...criticalOrHigh, startRow: 0, endRow: 20 },
    });
    assert.equal(error, undefined);
    assert.equal(response.status, 200);
    assert.ok(data);
    assert.ok(data.rowCount !== undefined && data.rowCount > 0, "the demo has critical and high issues");
    assert.equal(data.policyIssues.length, Math.min(20, data.rowCount));
    for (const issue of data.policyIssues) {
      assert.ok(["critical", "high"].includes(issue.severity), `severity ${issue.severity}`);
    }
    const observed = data.policyIssues.map((i) => Date.parse(i.observedAt));
    for (let i = 1; i < observed.length; i++) {
      assert.ok(observed[i - 1]! >= observed[i]!, "observedAt newest first");
    }

    const everything = unwrap(
      await client.POST("/api/orgs/{orgName}/policyresults/issues", {
        params: { path: { orgName: org } },
        body: { startRow: 0, endRow: 1 },
      }),
    );
    assert.ok(everything.rowCount! > data.rowCount, "the filter leaves issues out");
  });

  test("pages to the end", async () => {
    const paged = await listAllIssues(client, org, criticalOrHigh, { pageSize: 7 });
    assert.ok(paged.rowCount > 7, "more than one page");
    assert.equal(paged.issues.length, paged.rowCount);
    assert.equal(paged.pages, Math.ceil(paged.rowCount / 7));
    assert.equal(new Set(paged.issues.map((i) => i.id)).size, paged.rowCount, "no issue twice");

    const onePage = await listAllIssues(client, org, criticalOrHigh);
    assert.equal(onePage.pages, 1);
    assert.deepEqual(
      paged.issues.map((i) => i.id),
      onePage.issues.map((i) => i.id),
      "pages follow the sort",
    );
  });

  test("patches an issue and records its history", async () => {
    const open = unwrap(
      await client.POST("/api/orgs/{orgName}/policyresults/issues", {
        params: { path: { orgName: org } },
        body: {
          startRow: 0,
          endRow: 1,
          filterModel: { filterType: "text", colId: "status", type: "equals", filter: "open" },
        },
      }),
    ).policyIssues[0];
    assert.ok(open, "the demo has an open issue");

    const got = await getIssue(client, org, open.id);
    assert.equal(got.policyIssue.status, "open");
    assert.equal(got.policyIssue.id, open.id);
    const etag = got.etag;
    assert.ok(etag, "GetPolicyIssue answers an ETag");

    const updated = await updateIssue(client, org, open.id, { status: "in_progress", priority: "p1" }, { ifMatch: etag });
    assert.equal(updated.policyIssue.id, open.id);
    assert.equal(updated.policyIssue.status, "in_progress");
    assert.equal(updated.policyIssue.priority, "p1");
    assert.ok(updated.etag && updated.etag !== etag, "the ETag changes");
    assert.ok(Date.parse(updated.policyIssue.lastModified!) >= Date.parse(open.lastModified!));

    const reread = await getIssue(client, org, open.id);
    assert.equal(reread.policyIssue.status, "in_progress");
    assert.equal(reread.etag, updated.etag, "a read after the change answers the change's ETag");

    const history = unwrap(
      await client.GET("/api/orgs/{orgName}/policyresults/issues/{issueId}/history", {
        params: { path: { orgName: org, issueId: open.id } },
      }),
    );
    const status = history.entries.find((e) => e.field === "status");
    assert.ok(status, "a status entry");
    assert.equal(status.oldValue, "open");
    assert.equal(status.newValue, "in_progress");
    assert.equal(status.actor, "alice");
    assert.equal(status.actorType, "user");
    assert.ok(history.entries.some((e) => e.field === "priority" && e.newValue === "p1"));

    // The first ETag is stale now.
    await assert.rejects(updateIssue(client, org, open.id, { status: "ignored" }, { ifMatch: etag }), (err) => {
      assert.ok(err instanceof PolicyResultsError);
      assert.equal(err.status, 412);
      return true;
    });
    // An invalid change is a typed error body.
    const bad = await client.PATCH("/api/orgs/{orgName}/policyresults/issues/{issueId}", {
      params: { path: { orgName: org, issueId: open.id } },
      body: { status: "fixed" },
    });
    assert.equal(bad.response.status, 400);
    assert.equal(bad.error?.code, 400);
    assert.match(bad.error?.message ?? "", /fixed/);
  });

  test("triages a selection at once, refusing a stale count", async () => {
    const filterModel = { filterType: "join", type: "AND", conditions: [{ filterType: "set", colId: "severity", type: "isAnyOf", values: ["low"] }] };
    const page = unwrap(
      await client.POST("/api/orgs/{orgName}/policyresults/issues", { params: { path: { orgName: org } }, body: { filterModel, startRow: 0, endRow: 1 } }),
    );
    const count = page.rowCount!;
    assert.ok(count > 0, "low issues in the demo");
    await assert.rejects(batchUpdateIssues(client, org, { filterModel, expectedCount: count + 1, priority: "p4" }), (err) => {
      assert.ok(err instanceof BatchCountError);
      assert.equal(err.status, 409);
      assert.equal(err.matched, count);
      return true;
    });
    const done = await batchUpdateIssues(client, org, { filterModel, expectedCount: count, priority: "p4" });
    assert.equal(done.matched, count);
    assert.equal(done.changed + done.unchanged, count);
    assert.ok(done.batchId);
  });

  test("sends gzip-compressed bodies", async () => {
    // A fetch that records what goes on the wire.
    const sent: { encoding: string | null; body: Uint8Array }[] = [];
    const recording = async (request: Request): Promise<Response> => {
      sent.push({ encoding: request.headers.get("Content-Encoding"), body: new Uint8Array(await request.clone().arrayBuffer()) });
      return fetch(request);
    };
    const compressed = createPolicyResultsClient({
      baseUrl: server.baseUrl,
      token: server.token,
      compressRequestBodies: true,
      fetch: recording,
    });
    const grid = { ...criticalOrHigh, startRow: 0, endRow: 50 };
    const issues = { params: { path: { orgName: org } }, body: grid };
    const plainPage = unwrap(await client.POST("/api/orgs/{orgName}/policyresults/issues", issues));
    const packedPage = unwrap(await compressed.POST("/api/orgs/{orgName}/policyresults/issues", issues));
    assert.deepEqual(packedPage, plainPage);
    assert.equal(sent[0]?.encoding, "gzip");
    assert.deepEqual(JSON.parse(gunzipSync(sent[0]!.body).toString("utf8")), grid);

    // `pulumi api UpdatePolicyIssue -F priority=p2`, compressed as the CLI sends it.
    const issue = packedPage.policyIssues.find((i) => i.priority !== "p2");
    assert.ok(issue, "an issue whose priority is not p2");
    const updated = await updateIssue(compressed, org, issue.id, { priority: "p2" });
    assert.equal(updated.policyIssue.priority, "p2");
    assert.equal(sent[1]?.encoding, "gzip");
    assert.deepEqual(JSON.parse(gunzipSync(sent[1]!.body).toString("utf8")), { priority: "p2" });

    // A GET has no body to compress.
    unwrap(await compressed.GET("/api/orgs/{orgName}/policyresults/metadata", { params: { path: { orgName: org } } }));
    assert.equal(sent[2]?.encoding, null);

    // One request compressed through the middleware alone.
    const perRequest = createPolicyResultsClient({ baseUrl: server.baseUrl, token: server.token, fetch: recording });
    const again = unwrap(await perRequest.POST("/api/orgs/{orgName}/policyresults/issues", { ...issues, middleware: [gzipRequestBodies] }));
    assert.equal(sent[3]?.encoding, "gzip");
    assert.equal(again.rowCount, plainPage.rowCount);

    // Any other coding is 415, in Pulumi's error body.
    const brotli = await client.POST("/api/orgs/{orgName}/policyresults/issues", { ...issues, headers: { "Content-Encoding": "br" } });
    assert.equal(brotli.response.status, 415);
    assert.equal(brotli.error?.code, 415);
    assert.match(brotli.error?.message ?? "", /"br" is not supported/);
  });

  test("reads compliance by stack", async () => {
    const page = unwrap(
      await client.POST("/api/orgs/{orgName}/policyresults/compliance", {
        params: { path: { orgName: org } },
        body: { entity: "stack", size: 2 },
      }),
    );
    assert.ok(page.columns.length > 0);
    assert.deepEqual([...page.columns].sort(), page.columns, "columns are sorted");
    assert.equal(page.rows.length, 2);
    assert.ok(page.continuationToken, "more than one page");
    for (const row of page.rows) {
      assert.match(row.entityName, /^[^/]+\/[^/]+$/, "project/stack");
      assert.equal(row.scores.length, page.columns.length);
      for (const score of row.scores) {
        assert.ok(Number.isInteger(score) && score >= -2 && score <= 100, `score ${score}`);
      }
    }

    const paged = await getComplianceMatrix(client, org, "stack", { pageSize: 2 });
    const whole = await getComplianceMatrix(client, org, "stack");
    assert.deepEqual(paged, whole);
    assert.deepEqual(paged.rows.slice(0, 2), page.rows);
    assert.ok(whole.rows.length > 2);
  });

  test("exports CSV", async () => {
    const csv = await exportIssuesCsv(client, org, criticalOrHigh);
    const [header, ...rows] = parseCsv(csv);
    assert.deepEqual(header, [...issueFields]);

    const all = await listAllIssues(client, org, criticalOrHigh);
    assert.equal(rows.length, all.rowCount);
    assert.deepEqual(
      rows.map((r) => r[0]),
      all.issues.map((i) => i.id),
      "same rows in the same order as the grid",
    );
    const severity = header!.indexOf("severity");
    assert.ok(rows.every((r) => r.length === header!.length && ["critical", "high"].includes(r[severity]!)));

    const raw = await client.POST("/api/orgs/{orgName}/policyresults/issues/export", {
      params: { path: { orgName: org } },
      body: { startRow: 0, endRow: 3 },
      parseAs: "text",
    });
    assert.match(raw.response.headers.get("Content-Type") ?? "", /^text\/csv/);
    assert.match(raw.response.headers.get("Content-Disposition") ?? "", /attachment; filename="?policy-issues-acme-/);
    assert.equal(parseCsv(raw.data ?? "").length, 4, "header and three rows");
  });

  test("lists the organisation's members", async () => {
    const members = await listOrganizationMembers(client, org);
    assert.deepEqual(
      members.map((m) => [m.user.githubLogin, m.fgaRole.id]),
      [
        ["alice", "admin"],
        ["bob", "member"],
        ["carol", "viewer"],
      ],
    );
    // alice is an admin: she sees the emails.
    assert.ok(members.every((m) => m.user.email?.includes("@")));
  });

  test("a wrong token is a 401 error", async () => {
    const stranger = createPolicyResultsClient({ baseUrl: server.baseUrl, token: "pul-0000000000000000000000000000000000000000" });
    await assert.rejects(listAllIssues(stranger, org), (err) => {
      assert.ok(err instanceof PolicyResultsError);
      assert.equal(err.status, 401);
      return true;
    });
  });
});
