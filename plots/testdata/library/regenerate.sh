#!/usr/bin/env bash
# Regenerates the fixtures of TestLibraryReportsAnswerFirst: the real
# results of every built-in scenario, gzipped (summary.json.gz, and
# sweep.json.gz for a study). Run from anywhere:
#
#   bash plots/testdata/library/regenerate.sh
#
# then run `go test ./plots -run TestLibraryReportsAnswerFirst` and review
# the answers it prints with -v. The three scale scenarios run 1 simulated
# second (their question is about cost, which a second shows; a full run
# takes minutes and its summary is no different in shape); the capacity
# study runs its whole design with 2 replications of 2 s.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
go build -o "$tmp/ambientsim" ./cmd/ambientsim
for yaml in scenarios/library/*.yaml; do
	name="$(basename "$yaml" .yaml)"
	out="$tmp/$name"
	if grep -q '^sweep:' "$yaml"; then
		"$tmp/ambientsim" sweep "$name" --out "$out" --replications 2 --duration 2s >/dev/null
		files=(sweep.json)
	else
		extra=()
		case "$name" in
		cost-at-scale-1000 | cost-at-scale-10000 | large-cluster) extra=(--duration 1s) ;;
		esac
		"$tmp/ambientsim" run "$name" --out "$out" "${extra[@]}" --metrics-end-time 2026-01-01T00:00:00Z >/dev/null
		files=(summary.json)
	fi
	rm -rf "${here:?}/$name"
	mkdir -p "$here/$name"
	for f in "${files[@]}"; do
		gzip -9 -n -c "$out/$f" >"$here/$name/$f.gz"
	done
	echo "$name: ${files[*]}"
done
