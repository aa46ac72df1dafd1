# Sourced by scripts/bench.sh, ingest-pair.sh and ingest-bound.sh: the size flags
# of `policyresults demo` for each benchmark size (BENCHMARKS.md, "Data and
# machine"), and the throughput a load reports.
#
#   demo_size smoke|small|full   sets the array size; 1 for another name
#   load_size 100k|1m USAGE      the same, by the ingest scripts' names
#   demo_rate LOG                the violations/s of the load that wrote LOG

demo_size() {
  case "$1" in
  smoke) size=(--stacks 6 --accounts 2 --resources-per-entity 30 --runs 2 --failure-rate 0.5 --triage 200) ;;
  small) size=(--stacks 300 --accounts 4 --resources-per-entity 400 --runs 2 --failure-rate 0.5 --triage 2000) ;;
  full) size=(--stacks 3000 --accounts 20 --resources-per-entity 400 --runs 2 --failure-rate 0.5 --triage 20000) ;;
  *) return 1 ;;
  esac
}

# load_size 100k|1m USAGE: demo_size for the sizes that
# scripts/ingest-pair.sh and scripts/ingest-bound.sh take; for another name
# it prints USAGE and exits with 2.
load_size() {
  case "$1" in
  100k) demo_size small ;;
  1m) demo_size full ;;
  *)
    echo "$2" >&2
    exit 2
    ;;
  esac
}

# demo_rate LOG: the ingest throughput (violations/s) of the whole load that
# `policyresults demo` wrote to LOG, its standard error.
demo_rate() {
  tr '\r' '\n' <"$1" | sed -nE 's/^loaded .*ingest ([0-9]+) violations\/s.*/\1/p'
}
