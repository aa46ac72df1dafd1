# Sourced by scripts/bench.sh and scripts/ingest-pair.sh: the size flags
# of `policyresults demo` for each benchmark size (BENCHMARKS.md, "Data and
# machine").
#
#   demo_size smoke|small|full   sets the array size; 1 for another name

demo_size() {
  case "$1" in
  smoke) size=(--stacks 6 --accounts 2 --resources-per-entity 30 --runs 2 --failure-rate 0.5 --triage 200) ;;
  small) size=(--stacks 300 --accounts 4 --resources-per-entity 400 --runs 2 --failure-rate 0.5 --triage 2000) ;;
  full) size=(--stacks 3000 --accounts 20 --resources-per-entity 400 --runs 2 --failure-rate 0.5 --triage 20000) ;;
  *) return 1 ;;
  esac
}
