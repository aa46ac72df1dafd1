// Package demo loads a realistic, deterministic demo organisation through the
// same repository code the ingest API uses: users, policy packs modelled on
// Pulumi's compliance-ready policies, policy groups, stacks and Insights
// accounts evaluated several times over a month (so issues open, get fixed and
// reopen), and a share of the issues triaged by people.
package demo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/groups"
	"github.com/policyresults/policyresults/repository/packs"
)

// OrgName is the demo organisation.
const OrgName = "acme"

// Options size the demo data.
type Options struct {
	// Seed makes the data reproducible (default 1).
	Seed uint64
	// Stacks and Accounts are the numbers of entities (defaults 10 and 3).
	Stacks, Accounts int
	// ResourcesPerEntity is the resources of each stack or account
	// (default 24).
	ResourcesPerEntity int
	// Runs is the number of evaluations of each entity (default 4).
	Runs int
	// Workers ingest entities in parallel (default 1; PostgreSQL takes more).
	Workers int
	// FailureRate is the share of (resource, policy) pairs failing at first
	// (default 0.2).
	FailureRate float64
	// Triage is how many active issues people work on (default 400; -1
	// none): between the last two runs, or after the only one.
	Triage int
	// Progress, when set, receives a progress line as entities load.
	Progress io.Writer
	// Now anchors the evaluation times (default time.Now()).
	Now time.Time
}

func (o *Options) defaults() {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Stacks == 0 {
		o.Stacks = len(stackTemplates)
	}
	if o.Accounts == 0 {
		o.Accounts = len(accountTemplates)
	}
	if o.ResourcesPerEntity == 0 {
		o.ResourcesPerEntity = 24
	}
	if o.Runs == 0 {
		o.Runs = 4
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.FailureRate == 0 {
		o.FailureRate = 0.2
	}
	if o.Triage == 0 {
		o.Triage = 400
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
}

// Result tells what Load wrote.
type Result struct {
	Org         *model.Organization
	Admin       *model.User
	Evaluations int
	Violations  int64
	Opened      int64
	Fixed       int64
	Reopened    int64
	Triaged     int
	Elapsed     time.Duration
	// Ingesting is the time spent in evaluations (Elapsed less the set-up
	// and the triage): Violations / Ingesting is the ingest throughput.
	Ingesting time.Duration
}

// entity is a demo stack or account with its resources and packs.
type entity struct {
	stack     *ingest.StackRef
	account   *ingest.AccountRef
	cloud     string
	packs     []*pack
	resources []resource
	// failing holds the state of each (resource index, pack, policy).
	failing map[stateKey]bool
	rng     *rand.Rand
}

type stateKey struct {
	resource int
	pack     string
	policy   string
}

type resource struct {
	urn, id, typ, name string
}

// Load creates the demo organisation and its data. It fails with
// repository.ErrConflict when the organisation exists.
func Load(ctx context.Context, repo *repository.Repository, opts Options) (*Result, error) {
	opts.defaults()
	start := time.Now()
	org, err := repo.Accounts.CreateOrganization(ctx, OrgName)
	if err != nil {
		return nil, err
	}
	res := &Result{Org: org}
	users := map[string]*model.User{}
	for _, u := range []struct {
		login, name string
		role        model.Role
	}{
		{"alice", "Alice Admin", model.RoleAdmin},
		{"bob", "Bob Builder", model.RoleMember},
		{"carol", "Carol Viewer", model.RoleViewer},
	} {
		user := &model.User{Login: u.login, Email: u.login + "@acme.example", Name: u.name}
		if err := repo.Accounts.CreateUser(ctx, user); err != nil {
			if !errors.Is(err, repository.ErrConflict) {
				return nil, err
			}
			if user, err = repo.Accounts.UserByLogin(ctx, u.login); err != nil {
				return nil, err
			}
		}
		if err := repo.Accounts.AddMember(ctx, org.ID, user.ID, u.role); err != nil {
			return nil, err
		}
		users[u.login] = user
	}
	res.Admin = users["alice"]

	if err := publishPacks(ctx, repo, org.ID); err != nil {
		return nil, err
	}
	entities := buildEntities(opts)
	if err := setUpGroups(ctx, repo, org.ID, entities); err != nil {
		return nil, err
	}

	// Triage happens between the last two runs, so the last run shows that
	// ignored and by_design issues keep their status when reported again.
	for run := 1; run <= opts.Runs; run++ {
		if run == opts.Runs && run > 1 && opts.Triage > 0 {
			n, err := triage(ctx, repo, org.ID, users, opts.Seed, opts.Triage, opts.Workers)
			if err != nil {
				return nil, err
			}
			res.Triaged = n
		}
		if err := ingestRun(ctx, repo, org.ID, entities, run, opts, res); err != nil {
			return nil, err
		}
	}
	if opts.Runs == 1 && opts.Triage > 0 {
		n, err := triage(ctx, repo, org.ID, users, opts.Seed, opts.Triage, opts.Workers)
		if err != nil {
			return nil, err
		}
		res.Triaged = n
	}
	if err := repo.Analyze(ctx); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\rloaded %d evaluations, %d violations in %s; ingest %.0f violations/s (%s); %d opened, %d fixed, %d reopened, %d triaged\n",
			res.Evaluations, res.Violations, res.Elapsed.Round(time.Millisecond), float64(res.Violations)/res.Ingesting.Seconds(),
			res.Ingesting.Round(time.Millisecond), res.Opened, res.Fixed, res.Reopened, res.Triaged)
	}
	return res, nil
}

// publishPacks publishes every catalog pack, and a second version of the AWS
// CIS pack that later runs use.
func publishPacks(ctx context.Context, repo *repository.Repository, orgID int64) error {
	for _, p := range catalog {
		tags := []string{p.tag}
		if p.name == "aws-cis-benchmark" {
			tags = append(tags, "1.5.1")
		}
		for _, tag := range tags {
			in := packs.Input{Name: p.name, DisplayName: p.displayName, VersionTag: tag, Description: p.description}
			for _, pol := range p.policies {
				fw := p.framework
				fw.Reference = pol.control
				in.Policies = append(in.Policies, model.PolicyInput{
					Name: pol.name, DisplayName: pol.name, Description: pol.description,
					EnforcementLevel: pol.level, Message: pol.description, Severity: pol.severity,
					Framework: &fw, Tags: []string{p.framework.Name, "compliance-ready"},
					RemediationSteps: pol.remediation, URL: "https://www.pulumi.com/docs/iac/crossguard/",
					ConfigSchema: []byte(`{"type":"object","properties":{"enforcementLevel":{"type":"string"}}}`),
				})
			}
			created, err := repo.Packs.CreatePolicyPackVersion(ctx, orgID, in)
			if err != nil {
				return fmt.Errorf("pack %s %s: %w", p.name, tag, err)
			}
			version := created.Version
			archive, err := packArchive(p, tag)
			if err != nil {
				return err
			}
			if err := repo.Packs.StorePolicyPackArchive(ctx, orgID, p.name, version, archive); err != nil {
				return err
			}
			if err := repo.Packs.CompletePolicyPackPublish(ctx, orgID, p.name, version); err != nil {
				return err
			}
		}
	}
	return nil
}

// packArchive is a small .tar.gz like `pulumi policy publish` uploads: the
// pack's PulumiPolicy.yaml and its program.
func packArchive(p pack, tag string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	var program strings.Builder
	program.WriteString("import { PolicyPack } from \"@pulumi/policy\";\n\nnew PolicyPack(\"" + p.name + "\", { policies: [\n")
	for _, pol := range p.policies {
		fmt.Fprintf(&program, "  { name: %q, description: %q, enforcementLevel: %q, validateResource: () => {} },\n", pol.name, pol.description, pol.level)
	}
	program.WriteString("]});\n")
	for _, f := range []struct{ name, body string }{
		{"PulumiPolicy.yaml", "runtime: nodejs\ndescription: " + p.description + "\nversion: " + tag + "\n"},
		{"index.ts", program.String()},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildEntities lays out the stacks and accounts with their resources.
func buildEntities(opts Options) []*entity {
	var out []*entity
	for i := 0; i < opts.Stacks; i++ {
		var t stackTemplate
		if i < len(stackTemplates) {
			t = stackTemplates[i]
		} else {
			clouds := []string{"aws", "aws", "kubernetes", "azure"}
			t = stackTemplate{
				project: fmt.Sprintf("%s-%03d", projectWords[i%len(projectWords)], i/len(projectWords)),
				stack:   stackWords[(i/len(projectWords))%len(stackWords)],
				cloud:   clouds[i%len(clouds)],
			}
		}
		e := &entity{stack: &ingest.StackRef{Project: t.project, Name: t.stack}, cloud: t.cloud}
		out = append(out, e)
	}
	for i := 0; i < opts.Accounts; i++ {
		name, cloud := "", ""
		if i < len(accountTemplates) {
			name, cloud = accountTemplates[i].name, accountTemplates[i].cloud
		} else if i%2 == 0 {
			name, cloud = fmt.Sprintf("aws-account-%012d", 100000000000+i), "aws"
		} else {
			name, cloud = fmt.Sprintf("azure-subscription-%03d", i), "azure"
		}
		provider := cloud
		if cloud == "azure" {
			provider = "azure-native"
		}
		out = append(out, &entity{account: &ingest.AccountRef{Name: name, Provider: provider}, cloud: cloud})
	}
	for i, e := range out {
		e.rng = rand.New(rand.NewPCG(opts.Seed, uint64(i)+1))
		e.failing = map[stateKey]bool{}
		e.packs = packsFor(e)
		types := map[string][]string{"aws": awsTypes, "azure": azureTypes, "kubernetes": k8sTypes}[e.cloud]
		stackName, project := "", ""
		if e.stack != nil {
			stackName, project = e.stack.Name, e.stack.Project
		} else {
			stackName, project = e.account.Name, "insights"
		}
		for r := 0; r < opts.ResourcesPerEntity; r++ {
			typ := types[(r+e.rng.IntN(len(types)))%len(types)]
			name := fmt.Sprintf("%s-%s-%d", nameWords[r%len(nameWords)], shortType(typ), r)
			res := resource{typ: typ, name: name, urn: fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", stackName, project, typ, name)}
			if e.account != nil {
				res.id = fmt.Sprintf("%s/%s", shortType(typ), name)
			}
			e.resources = append(e.resources, res)
		}
	}
	return out
}

func shortType(typ string) string {
	for i := len(typ) - 1; i >= 0; i-- {
		if typ[i] == ':' {
			return lower(typ[i+1:])
		}
	}
	return lower(typ)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// packsFor is which packs run on an entity, by cloud and environment.
func packsFor(e *entity) []*pack {
	switch e.cloud {
	case "kubernetes":
		return []*pack{packByName("kubernetes-cis")}
	case "azure":
		return []*pack{packByName("azure-iso-27001")}
	}
	if e.stack != nil && e.stack.Name == "prod" {
		return []*pack{packByName("aws-cis-benchmark"), packByName("aws-pci-dss")}
	}
	return []*pack{packByName("aws-cis-benchmark")}
}

// setUpGroups applies the packs to the default groups and to groups of
// production, Kubernetes and Azure stacks.
func setUpGroups(ctx context.Context, repo *repository.Repository, orgID int64, entities []*entity) error {
	for _, g := range []struct{ name, entityType, mode string }{
		{"production-stacks", model.GroupStacks, model.ModePreventative},
		{"kubernetes-clusters", model.GroupStacks, model.ModePreventative},
		{"azure-workloads", model.GroupStacks, model.ModePreventative},
	} {
		if _, err := repo.Groups.CreatePolicyGroup(ctx, orgID, g.name, g.entityType, g.mode); err != nil {
			return err
		}
	}
	updates := map[string][]groups.Update{
		model.DefaultStacksGroup:   {{AddPolicyPack: &groups.PackRef{Name: "aws-cis-benchmark"}}},
		model.DefaultAccountsGroup: {{AddPolicyPack: &groups.PackRef{Name: "aws-cis-benchmark"}}, {AddPolicyPack: &groups.PackRef{Name: "azure-iso-27001"}}},
		"production-stacks":        {{AddPolicyPack: &groups.PackRef{Name: "aws-pci-dss"}}},
		"kubernetes-clusters":      {{AddPolicyPack: &groups.PackRef{Name: "kubernetes-cis"}}},
		"azure-workloads":          {{AddPolicyPack: &groups.PackRef{Name: "azure-iso-27001"}}},
	}
	for _, e := range entities {
		switch {
		case e.account != nil:
			updates[model.DefaultAccountsGroup] = append(updates[model.DefaultAccountsGroup], groups.Update{AddInsightsAccount: e.account.Name})
		case e.cloud == "kubernetes":
			updates["kubernetes-clusters"] = append(updates["kubernetes-clusters"], groups.Update{AddStack: &groups.StackMember{Name: e.stack.Name, RoutingProject: e.stack.Project}})
		case e.cloud == "azure":
			updates["azure-workloads"] = append(updates["azure-workloads"], groups.Update{AddStack: &groups.StackMember{Name: e.stack.Name, RoutingProject: e.stack.Project}})
		case e.stack.Name == "prod":
			updates["production-stacks"] = append(updates["production-stacks"], groups.Update{AddStack: &groups.StackMember{Name: e.stack.Name, RoutingProject: e.stack.Project}})
		}
	}
	names := make([]string, 0, len(updates))
	for name := range updates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := repo.Groups.UpdatePolicyGroup(ctx, orgID, name, updates[name]); err != nil {
			return fmt.Errorf("group %s: %w", name, err)
		}
	}
	return nil
}

// ingestRun evaluates every entity once, in parallel where the database
// allows.
func ingestRun(ctx context.Context, repo *repository.Repository, orgID int64, entities []*entity, run int, opts Options, res *Result) error {
	start := time.Now()
	defer func() { res.Ingesting += time.Since(start) }()
	observed := opts.Now.Add(-time.Duration(opts.Runs-run) * 7 * 24 * time.Hour).Add(-time.Duration(len(entities)) * time.Second)
	var (
		wg                                           sync.WaitGroup
		mu                                           sync.Mutex
		firstErr                                     error
		done                                         atomic.Int64
		violations, opened, fixed, reopen, unchanged atomic.Int64
	)
	work := make(chan int)
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ev := evaluation(entities[i], run, opts.Runs, opts.FailureRate, observed.Add(time.Duration(i)*time.Second))
				sum, err := repo.ApplyEvaluation(ctx, orgID, repository.Actor{Name: "demo-ci", Type: "token"}, ev)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("evaluate %s: %w", label(entities[i]), err)
					}
					mu.Unlock()
					continue
				}
				violations.Add(int64(len(ev.Violations)))
				opened.Add(int64(sum.Opened))
				fixed.Add(int64(sum.Fixed))
				reopen.Add(int64(sum.Reopened))
				unchanged.Add(int64(sum.Unchanged))
				if n := done.Add(1); opts.Progress != nil && (n%50 == 0 || int(n) == len(entities)) {
					elapsed := (res.Ingesting + time.Since(start)).Seconds()
					fmt.Fprintf(opts.Progress, "\rrun %d/%d: %d/%d entities %s %d violations (%.0f violations/s)   ", run, opts.Runs, n, len(entities),
						bar(int(n), len(entities)), res.Violations+violations.Load(), float64(res.Violations+violations.Load())/elapsed)
				}
			}
		}()
	}
	for i := range entities {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if opts.Progress != nil {
		// One line per run: the first run opens issues, later ones mostly
		// re-report them, and their throughputs differ.
		took := time.Since(start)
		fmt.Fprintf(opts.Progress, "\rrun %d/%d: %d evaluations, %d violations in %s (%.0f violations/s): %d opened, %d reopened, %d fixed, %d unchanged\n",
			run, opts.Runs, done.Load(), violations.Load(), took.Round(time.Millisecond), float64(violations.Load())/took.Seconds(),
			opened.Load(), reopen.Load(), fixed.Load(), unchanged.Load())
	}
	res.Evaluations += int(done.Load())
	res.Violations += violations.Load()
	res.Opened += opened.Load()
	res.Fixed += fixed.Load()
	res.Reopened += reopen.Load()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func bar(n, total int) string {
	const width = 20
	filled := width * n / total
	b := make([]byte, width)
	for i := range b {
		if i < filled {
			b[i] = '#'
		} else {
			b[i] = '.'
		}
	}
	return "[" + string(b) + "]"
}

func label(e *entity) string {
	if e.stack != nil {
		return e.stack.Project + "/" + e.stack.Name
	}
	return e.account.Name
}

// evaluation builds the complete evaluation of an entity's run: each
// (resource, policy) pair fails at first with the failure rate, then failing
// pairs get fixed (30%) and passing ones regress (5%) from run to run.
func evaluation(e *entity, run, runs int, failureRate float64, observed time.Time) ingest.Evaluation {
	ev := ingest.Evaluation{Complete: true, ObservedAt: observed}
	if e.stack != nil {
		s := *e.stack
		s.Version = int64(run * 3)
		ev.Stack = &s
	} else {
		a := *e.account
		a.Version = int64(run)
		ev.Account = &a
	}
	for _, p := range e.packs {
		tag := p.tag
		if p.name == "aws-cis-benchmark" && run > runs/2 {
			tag = "1.5.1"
		}
		pack := ingest.EvaluatedPack{Name: p.name, VersionTag: tag}
		// One stack's CIS pack fails to load in the last run: its cells score -2.
		if run == runs && e.stack != nil && e.stack.Project == "payments" && e.stack.Name == "staging" {
			pack.Error = "policy pack failed to load: invalid configuration for s3-bucket-versioning-enabled"
		}
		ev.Packs = append(ev.Packs, pack)
	}
	for ri, r := range e.resources {
		res := ingest.EvaluatedResource{URN: r.urn, ID: r.id, Type: r.typ, Name: r.name}
		if e.account != nil {
			v := int64(run)
			res.Version = &v
		}
		for _, p := range e.packs {
			outcome := ingest.ResourcePackOutcome{Name: p.name}
			for _, pol := range p.policies {
				if !governs(pol, r.typ) {
					continue
				}
				key := stateKey{ri, p.name, pol.name}
				failing, seen := e.failing[key]
				switch {
				case !seen:
					failing = e.rng.Float64() < failureRate
				case failing:
					failing = e.rng.Float64() >= 0.3
				default:
					failing = e.rng.Float64() < 0.05
				}
				e.failing[key] = failing
				if failing {
					outcome.Failed = append(outcome.Failed, pol.name)
					ev.Violations = append(ev.Violations, ingest.Violation{
						PolicyPack: p.name, PolicyName: pol.name, ResourceURN: r.urn,
						Message: fmt.Sprintf("%s %s: %s", r.typ, r.name, pol.description), EnforcementLevel: pol.level,
					})
				} else {
					outcome.Passed = append(outcome.Passed, pol.name)
				}
			}
			if len(outcome.Failed)+len(outcome.Passed) > 0 {
				res.Packs = append(res.Packs, outcome)
			}
		}
		ev.Resources = append(ev.Resources, res)
	}
	return ev
}

func governs(p catalogPolicy, typ string) bool {
	for _, t := range p.types {
		if t == typ {
			return true
		}
	}
	return false
}

// triage has people work on a share of the active issues: some in progress,
// some accepted as ignored or by design, some assigned, some reprioritised.
func triage(ctx context.Context, repo *repository.Repository, orgID int64, users map[string]*model.User, seed uint64, limit, workers int) (int, error) {
	ids, err := repo.ActiveIssueIDs(ctx, orgID, limit)
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7419))
	type job struct {
		id    string
		u     repository.IssueUpdate
		actor *model.User
	}
	var jobs []job
	for _, id := range ids {
		var u repository.IssueUpdate
		set := func(s string) *string { return &s }
		x := rng.Float64()
		switch {
		case x < 0.12:
			u.Status = set(policy.StatusInProgress)
			u.Assignee = set(pick(rng, "alice", "bob"))
		case x < 0.17:
			u.Status = set(policy.StatusIgnored)
		case x < 0.21:
			u.Status = set(policy.StatusByDesign)
		case x < 0.33:
			u.Assignee = set(pick(rng, "alice", "bob"))
		case x < 0.38:
			u.Priority = set("p1")
		default:
			continue
		}
		jobs = append(jobs, job{id: id, u: u, actor: users[pick(rng, "alice", "bob")]})
	}
	// The decisions are made above in order, so the result is the same
	// whatever the number of workers.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan job)
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if _, err := repo.UpdateIssue(ctx, orgID, j.id, repository.Actor{Name: j.actor.Login, Type: "user"}, j.u); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return len(jobs), nil
}

func pick(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }
