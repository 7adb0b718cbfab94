#!/usr/bin/env bash
# Every mutant under controlled fuzzing, one at a time, then a replay of each repro file:
#   bash bench/controlled-sweep.sh [strategy] [duration]
# Prints, per mutant, the campaign's summary lines and how the replay went.
set -u
strategy=${1:-pct}
duration=${2:-120s}
out=$(mktemp -d)
for m in $(node cli/bin.mjs stress --list-mutants | awk '{print $1}'); do
  start=$(date +%s.%N)
  node cli/bin.mjs fuzz --controlled --strategy "$strategy" --inject "$m" --seed 1 \
    --duration "$duration" --out "$out/$m" --quiet > "$out/$m.txt" 2>&1
  rc=$?
  echo "== $m exit $rc, $(echo "$(date +%s.%N) - $start" | bc) s"
  grep -E "controlled:|scheduling:|failing program|shrunk from|VIOLATION|schedule:|clean" "$out/$m.txt" | cut -c1-200
  repro=$(ls "$out/$m"/*.json 2>/dev/null | head -1)
  if [ -n "$repro" ]; then node cli/bin.mjs replay "$repro" --times 10 | grep -E "reproduced|exactly|did not"; fi
done
echo "(files in $out)"
