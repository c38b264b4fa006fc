#!/usr/bin/env bash
# Runs each Go fuzz target (package:Target) for FUZZTIME. A target fails on
# a crasher, which go test writes to <package>/testdata/fuzz/<Target>/.
#
# Go 1.26's fuzz coordinator can also fail a target with a bare "context
# deadline exceeded" at the end of -fuzztime, having found nothing
# (golang/go#75804, fixed in Go 1.27). Such a run is tried once more; if
# the same happens again, with still no crasher written, it is reported as
# that race and not as a failure.
#
# New inputs that widen coverage are minimized for at most 2 s (Go's
# default is 60 s, during which that worker fuzzes nothing): a target
# whose parser walks long strings (FuzzParse's UTF-8 check) otherwise
# spent most of a short FUZZTIME minimizing.
set -euo pipefail
: "${GO:=go}" "${FUZZTIME:=8s}"
for t in "$@"; do
  pkg=${t%%:*} name=${t##*:}
  dir="$pkg/testdata/fuzz/$name"
  echo "== fuzz $pkg $name ($FUZZTIME)"
  for try in 1 2; do
    before=$(ls "$dir" 2>/dev/null | sort || true)
    out=$(mktemp)
    if "$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "./$pkg" 2>&1 | tee "$out"; then
      rm -f "$out"
      break
    fi
    after=$(ls "$dir" 2>/dev/null | sort || true)
    if [ "$before" != "$after" ] || ! grep -q '^    context deadline exceeded$' "$out"; then
      echo "fuzz: $pkg $name failed (a crasher is in $dir when one was found)" >&2
      rm -f "$out"
      exit 1
    fi
    rm -f "$out"
    if [ "$try" = 2 ]; then
      echo "fuzz: $pkg $name: twice 'context deadline exceeded' without a crasher: Go's fuzz coordinator race (golang/go#75804), not a finding" >&2
    else
      echo "fuzz: $pkg $name: 'context deadline exceeded' without a crasher (golang/go#75804); once more" >&2
    fi
  done
done
