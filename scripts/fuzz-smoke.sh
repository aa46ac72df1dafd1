#!/usr/bin/env bash
# Runs every fuzz target of the module for a short while (FUZZTIME, default
# 5s each), for CI: new inputs that fail are written to the package's
# testdata/fuzz/<Target>/ and the script exits non-zero. Targets are found
# by name (func FuzzX in *_test.go), so new ones are run without editing this.
#   scripts/fuzz-smoke.sh                 # every target, 5 s each
#   FUZZTIME=60s scripts/fuzz-smoke.sh ./grid   # longer, one package
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"
GO="${GO:-go}"

if [ "$#" -gt 0 ]; then
  pkgs=("$@")
else
  mapfile -t pkgs < <(grep -rl --include='*_test.go' -E '^func Fuzz[A-Z0-9_][A-Za-z0-9_]*\(' \
    --exclude-dir=node_modules --exclude-dir=web --exclude-dir=sdk . | xargs -n1 dirname | sort -u)
fi

failed=0
ran=0
for pkg in "${pkgs[@]}"; do
  case "$pkg" in ./*) ;; *) pkg="./$pkg" ;; esac
  mapfile -t targets < <(grep -h -o -E '^func Fuzz[A-Za-z0-9_]*\(' "$pkg"/*_test.go | sed -e 's/^func //' -e 's/($//' | sort -u)
  for target in "${targets[@]}"; do
    echo "=== fuzz $pkg $target ($FUZZTIME)"
    if ! "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime="$FUZZTIME" "$pkg"; then
      echo "FAIL: $pkg $target (see $pkg/testdata/fuzz/$target/)"
      failed=1
    fi
    ran=$((ran + 1))
  done
done
if [ "$ran" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi
echo "fuzz-smoke: $ran targets, $FUZZTIME each: $([ "$failed" -eq 0 ] && echo ok || echo FAILED)"
exit "$failed"
