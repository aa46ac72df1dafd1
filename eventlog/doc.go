// Package eventlog reads the engine event logs the pulumi CLI writes with
// `pulumi up|preview --policy-pack PATH --event-log FILE` and keeps what a
// policy evaluation needs: the packs that ran, the resources they evaluated
// with the policies that passed and failed on each, and the violations.
//
// # The log
//
// The CLI converts each engine event (pulumi's pkg/engine) to an
// apitype.EngineEvent (sdk/go/common/apitype/events.go) with the display
// layer's ConvertEngineEvent (pkg/backend/display) and JSON-encodes it on
// its own line: "sequence" counts from 0, "timestamp" is Unix seconds, and
// exactly one payload field is set. Payloads are described here by their
// JSON keys, which are apitype's.
//
// Per resource, the engine's step generator first calls Remediate and then
// Analyze on every analyzer (policy pack), so for each pack a resource gets
// policyRemediationEvent lines, one policyRemediateSummaryEvent, policyEvent
// lines and one policyAnalyzeSummaryEvent, before its resourcePreEvent. After
// the program, AnalyzeStack gives policyEvent lines and one
// policyAnalyzeStackSummaryEvent per pack; the summaryEvent closes the run.
// CLIs older than the summary events write only policyEvent and summaryEvent.
//
// # What is read
//
//   - policyEvent: one violation. resourceUrn (absent for a stack policy
//     that names no resource), message (with the CLI's colour directives,
//     which StripColor removes), policyName, policyPackName,
//     policyPackVersionTag or else policyPackVersion (the engine sets both to
//     the analyzer's version), enforcementLevel (advisory, mandatory,
//     remediate or disabled; older CLIs' "warning" and "none" are mapped; the
//     engine reports a remediate policy that still fails as mandatory) and,
//     where the CLI writes it, severity. A policy whose remediation could only
//     report a diagnostic arrives here too, as advisory. Newer CLIs add
//     exceptions, the policy exceptions that matched (the operation then does
//     not fail); they are not read: the violation is still one.
//   - policyAnalyzeSummaryEvent: the outcome of one Analyze call on one
//     resource for one pack. resourceUrn; policyPackName and
//     policyPackVersion(Tag) are the analyzer's own (GetAnalyzerInfo), empty
//     when the analyzer names none; passed lists the pack's resource policies
//     that applied and found nothing (not the disabled or not-applicable
//     ones), failed those that reported a violation.
//   - policyAnalyzeStackSummaryEvent: the same for AnalyzeStack, without a
//     resource: its outcomes belong to the stack's root resource.
//   - policyRemediateSummaryEvent: the outcome of one Remediate call. Its
//     failed lists the remediation policies that changed the resource's
//     inputs and its passed every other resource policy of the pack, whatever
//     its enforcement level. It says nothing about compliance: the remediated
//     inputs are analyzed next, and that policyAnalyzeSummaryEvent decides
//     what passed and failed. It only shows that the pack ran.
//   - policyRemediationEvent: one remediation applied (resourceUrn,
//     policyName, policyPackName, the inputs before and after). A remediation
//     policy fixing a resource is not a violation: it is listed in
//     Run.Remediations, never in Run.Violations, and counts neither as a
//     passed nor as a failed policy.
//   - resourcePreEvent: metadata.op, urn, type and provider give the
//     inventory and each resource's type and provider package; a resource
//     only ever deleted or discarded is not in it.
//   - summaryEvent: PolicyPacks (PascalCase: apitype's field has no JSON
//     tag) maps every pack that ran to its version. Packs required by Pulumi
//     Cloud appear as NAME → version (the integer version in older CLIs,
//     "v" and the version tag in newer ones); local packs (--policy-pack
//     PATH) as "NAME|local|PATH" → the version the pack declares, which may
//     be empty; the oldest CLIs wrote PATH → "(local)". isPreview, and
//     result (succeeded, failed or canceled) where the CLI writes it.
//
// # What is passed over
//
// Summary events (analyze, stack analyze, remediate) whose policyPackName is
// empty, PolicyPacks entries that name no pack ("|local|PATH", PATH →
// "(local)") and policyEvents without policyPackName or policyName cannot be
// attributed to a pack: they are counted in Run.PassedOver and skipped, and
// the rest of the log is read. Every other event type (preludeEvent,
// stdoutEvent, diagnosticEvent, resOutputsEvent, resOpFailedEvent,
// policyLoadEvent, cancelEvent, progressEvent, startDebuggingEvent,
// errorEvent and whatever newer CLIs add) and every unknown field are
// ignored.
//
// A line that is not one JSON object with a sequence or a timestamp, whose
// known fields have the wrong JSON type, or a resourcePreEvent or
// policyAnalyzeSummaryEvent without the resource's URN (the engine always
// writes it) fails the whole parse.
//
// # Versions
//
// A pack's version tag comes from its events, else from summaryEvent, with a
// leading "v" removed. It may be empty (a local pack that declares no
// version): Pack.VersionTag is then "", which the evaluations endpoint
// accepts and resolves like any evaluation sent without a tag (the version
// the stack's policy group applies, else the latest published version
// registered under that name, else none).
package eventlog
