package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/policyresults/policyresults/eventlog"
)

// printRead tells what the import read from the log and what it passed over.
func printRead(w io.Writer, run *eventlog.Run) {
	packs := make([]string, len(run.Packs))
	for i, p := range run.Packs {
		packs[i] = p.Name + " " + p.VersionTag
		if p.VersionTag == "" {
			packs[i] = p.Name + " (no version)"
		}
	}
	fmt.Fprintf(w, "read %s (%s), %s, %s, %s (not violations)\n",
		count(len(run.Packs), "policy pack", "policy packs"), strings.Join(packs, ", "),
		count(len(run.Resources), "resource", "resources"), count(len(run.Violations), "violation", "violations"),
		count(len(run.Remediations), "remediation", "remediations"))
	if run.PassedOver.Total() > 0 {
		fmt.Fprintln(w, passedOver(run.PassedOver))
	}
	if run.Result != "" && run.Result != "succeeded" {
		fmt.Fprintf(w, "the run's result is %s: resources it did not get to evaluate count as evaluated without violations\n", run.Result)
	}
}

// passedOver says what a log held that names no policy pack.
func passedOver(p eventlog.PassedOver) string {
	var parts []string
	if p.SummaryEvents > 0 {
		parts = append(parts, count(p.SummaryEvents, "policy summary event", "policy summary events")+" without a policy pack")
	}
	if p.Violations > 0 {
		parts = append(parts, count(p.Violations, "policy violation", "policy violations")+" without a policy pack or policy name")
	}
	if p.Packs > 0 {
		parts = append(parts, count(p.Packs, "summary pack entry", "summary pack entries")+" without a pack name")
	}
	list := strings.Join(parts, ", ")
	if i := strings.LastIndex(list, ", "); i >= 0 {
		list = list[:i] + " and " + list[i+2:]
	}
	return "passed over " + list
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
