package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/policyresults/policyresults/eventlog"
	"github.com/policyresults/policyresults/gen/client"
)

func newImportCommand() *cobra.Command {
	var (
		baseURL, org, stack, kind string
		version                   int
	)
	cmd := &cobra.Command{
		Use:   "import --url URL --org ORG --stack PROJECT/STACK --version N [--kind preventative|audit] FILE",
		Short: "Import a pulumi engine event log as one complete evaluation",
		Long: "Read the event log of `pulumi up|preview --event-log FILE` ('-' reads stdin) and post its policy\n" +
			"results to a policyresults server as one complete evaluation of the stack at update version N.\n" +
			"The token comes from POLICYRESULTS_TOKEN. Events that name no policy pack are passed over and counted;\n" +
			"a line that is not a JSON engine event fails the import and nothing is posted (docs/import.md).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			token := os.Getenv("POLICYRESULTS_TOKEN")
			if token == "" {
				return errors.New("set POLICYRESULTS_TOKEN to a token of the organisation")
			}
			project, stackName, ok := strings.Cut(stack, "/")
			if !ok || project == "" || stackName == "" {
				return fmt.Errorf("--stack must be PROJECT/STACK, got %q", stack)
			}
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			run, err := eventlog.Parse(in)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			req, err := evaluationRequest(run, project, stackName, version, kind)
			if err != nil {
				return err
			}
			sum, err := postEvaluation(cmd.Context(), baseURL, token, org, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s/%s version %d: %d opened, %d reopened, %d fixed, %d unchanged; %d resources governed\n",
				project, stackName, version, sum.IssuesOpened, sum.IssuesReopened, sum.IssuesFixed, sum.IssuesUnchanged, sum.ResourcesGoverned)
			printRead(cmd.OutOrStdout(), run)
			return nil
		},
	}
	cmd.Flags().StringVar(&baseURL, "url", envOr("POLICYRESULTS_URL", "http://127.0.0.1:8080"), "policyresults server URL (env POLICYRESULTS_URL)")
	cmd.Flags().StringVar(&org, "org", "", "organisation (required)")
	cmd.Flags().StringVar(&stack, "stack", "", "PROJECT/STACK (required)")
	cmd.Flags().IntVar(&version, "version", 0, "the stack's update version (required)")
	cmd.Flags().StringVar(&kind, "kind", "", "preventative or audit (default: the policy group's mode)")
	_ = cmd.MarkFlagRequired("org")
	_ = cmd.MarkFlagRequired("stack")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

// evaluationRequest maps a parsed event log to the complete evaluation form.
func evaluationRequest(run *eventlog.Run, project, stack string, version int, kind string) (client.PolicyEvaluationRequest, error) {
	req := client.PolicyEvaluationRequest{
		Stack:       &client.PolicyEvaluationStack{Project: project, Name: stack, Version: version},
		PolicyPacks: []client.PolicyEvaluationPack{},
	}
	switch kind {
	case "":
	case "preventative", "audit":
		k := client.PolicyIssueKind(kind)
		req.Kind = &k
	default:
		return req, fmt.Errorf("--kind must be preventative or audit, got %q", kind)
	}
	if len(run.Packs) == 0 {
		msg := "the event log names no policy pack: was it written by `pulumi up|preview --policy-pack ... --event-log FILE`?"
		if run.PassedOver.Total() > 0 {
			msg += " (" + passedOver(run.PassedOver) + ")"
		}
		return req, errors.New(msg)
	}
	for _, p := range run.Packs {
		req.PolicyPacks = append(req.PolicyPacks, client.PolicyEvaluationPack{Name: p.Name, VersionTag: p.VersionTag})
	}
	resources := make([]client.PolicyEvaluationResource, 0, len(run.Resources))
	for _, r := range run.Resources {
		if r.URN == "" {
			continue
		}
		res := client.PolicyEvaluationResource{Urn: r.URN}
		if r.Type != "" {
			res.Type = ptr(r.Type)
		}
		if r.Provider != "" {
			res.Provider = ptr(r.Provider)
		}
		outcomes := make([]client.PolicyEvaluationResourcePack, 0, len(r.Packs))
		for _, o := range r.Packs {
			outcomes = append(outcomes, client.PolicyEvaluationResourcePack{Name: o.Name, Passed: ptr(nonNil(o.Passed)), Failed: ptr(nonNil(o.Failed))})
		}
		res.PolicyPacks = &outcomes
		resources = append(resources, res)
	}
	req.Resources = &resources
	violations := make([]client.PolicyEvaluationViolation, 0, len(run.Violations))
	for _, v := range run.Violations {
		viol := client.PolicyEvaluationViolation{PolicyPack: v.PolicyPack, PolicyName: v.PolicyName, Message: ptr(v.Message)}
		if v.ResourceURN != "" {
			viol.ResourceURN = ptr(v.ResourceURN)
		}
		if v.EnforcementLevel != "" {
			lvl := client.AppEnforcementLevel(v.EnforcementLevel)
			viol.EnforcementLevel = &lvl
		}
		if v.Severity != "" {
			sev := client.PolicySeverity(v.Severity)
			viol.Severity = &sev
		}
		violations = append(violations, viol)
	}
	req.Violations = &violations
	now := time.Now().UTC()
	req.ObservedAt = &now
	return req, nil
}

// postEvaluation sends the evaluation through the generated client.
func postEvaluation(ctx context.Context, baseURL, token, org string, req client.PolicyEvaluationRequest) (*client.PolicyEvaluationSummary, error) {
	c, err := client.NewClientWithResponses(strings.TrimSuffix(baseURL, "/"),
		client.WithHTTPClient(&http.Client{Timeout: 5 * time.Minute}),
		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "token "+token)
			return nil
		}))
	if err != nil {
		return nil, err
	}
	resp, err := c.CreatePolicyEvaluationWithResponse(ctx, org, req)
	if err != nil {
		return nil, err
	}
	if resp.JSON200 != nil {
		return resp.JSON200, nil
	}
	return nil, fmt.Errorf("server answered %s: %s", resp.Status(), strings.TrimSpace(string(resp.Body)))
}

func ptr[T any](v T) *T { return &v }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
