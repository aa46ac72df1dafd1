package eventlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MaxLineSize bounds one event line (resource events carry inputs and
// outputs, which can be large).
const MaxLineSize = 64 << 20

// Run is what one `pulumi up` or `pulumi preview` reported about policies.
type Run struct {
	// Packs are the policy packs that ran, by name: those the summary lists
	// and those any policy event names.
	Packs []Pack
	// Resources are the resources of the stack after the run, in order of
	// first appearance, with the policies each pack evaluated on them.
	// Stack-level policy outcomes are on the stack's root resource, whose
	// URN is empty when the log never names it.
	Resources []Resource
	// Violations are the policy violations, in log order.
	Violations []Violation
	// Remediations are the remediations remediation policies applied, in
	// log order. They are not violations.
	Remediations []Remediation
	// PassedOver counts what the log holds but names no pack.
	PassedOver PassedOver
	// StackURN is the URN of the stack's root resource (type
	// pulumi:pulumi:Stack), when the log names it.
	StackURN string
	// Preview reports a `pulumi preview`, when the summary says so.
	Preview bool
	// Result is the summary's outcome of the operation (succeeded, failed or
	// canceled), empty when the CLI predates it or the log has no summary.
	Result string
}

// Pack is a policy pack that ran. VersionTag is empty when neither its
// events nor the summary give a version.
type Pack struct {
	Name       string
	VersionTag string
}

// Resource is a resource of the run.
type Resource struct {
	URN      string
	Type     string
	Provider string // the provider's package, e.g. "aws"
	Packs    []PackOutcome
}

// PackOutcome lists the policies of one pack that passed and failed on a
// resource.
type PackOutcome struct {
	Name   string
	Passed []string
	Failed []string
}

// Violation is one policy violation. ResourceURN is empty for a stack-level
// policy when the log never names the stack's root resource.
type Violation struct {
	PolicyPack       string
	PolicyPackTag    string
	PolicyName       string
	ResourceURN      string
	Message          string
	EnforcementLevel string // advisory, mandatory, remediate, disabled or "" (unknown)
	Severity         string // "" when the policy has none
}

// Remediation is one change a remediation policy made to a resource's
// inputs. PolicyPack is empty when the event names none.
type Remediation struct {
	PolicyPack  string
	PolicyName  string
	ResourceURN string
}

// PassedOver counts the parts of a log that name no policy pack (see the
// package documentation).
type PassedOver struct {
	// SummaryEvents are policyAnalyzeSummaryEvent,
	// policyAnalyzeStackSummaryEvent and policyRemediateSummaryEvent lines
	// without a policyPackName.
	SummaryEvents int
	// Violations are policyEvent lines without a policyPackName or a
	// policyName.
	Violations int
	// Packs are summaryEvent.PolicyPacks entries that name no pack.
	Packs int
}

// Total is the number of parts passed over.
func (p PassedOver) Total() int { return p.SummaryEvents + p.Violations + p.Packs }

// colorDirective matches the CLI's colour directives, e.g. <{%reset%}>.
var colorDirective = regexp.MustCompile(`<\{%[^%]*%\}>`)

// StripColor removes the CLI's colour directives from a message and its
// trailing newlines.
func StripColor(s string) string {
	return strings.TrimRight(colorDirective.ReplaceAllString(s, ""), "\r\n")
}

// Parse reads an event log. Blank lines, event types other than those the
// package documentation lists, unknown fields and the parts that name no
// policy pack are skipped; a line that is not a JSON engine event is an error
// naming its line number, and then no Run is returned.
func Parse(r io.Reader) (*Run, error) {
	p := &parser{resources: map[string]*resourceAcc{}, packs: map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if len(bytes.TrimSpace(b)) > 0 {
			if perr := p.event(b); perr != nil {
				return nil, fmt.Errorf("line %d: %w", line, perr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	return p.run(), nil
}

// readLine reads one line without its newline, up to MaxLineSize.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > MaxLineSize {
			return nil, fmt.Errorf("line longer than %d bytes", MaxLineSize)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}
