# Sourced by scripts/ingest-pair.sh and scripts/schema-diff.sh: the
# policyresults binary of a git revision.
#
#   build_rev REV BIN SRC   builds ./cmd/policyresults of REV into BIN; REV
#                           is a git revision, or "worktree" for the working
#                           tree. Another revision is checked out at SRC (a
#                           git worktree; remove_rev SRC removes it).
#   remove_rev SRC          removes the checkout build_rev made at SRC, if any

build_rev() {
  if [ "$1" = worktree ]; then
    go build -o "$2" ./cmd/policyresults
    return
  fi
  git worktree add --quiet --detach "$3" "$1"
  (cd "$3" && go build -o "$2" ./cmd/policyresults)
}

remove_rev() {
  git worktree remove --force "$1" 2>/dev/null || true
}
