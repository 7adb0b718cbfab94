#!/usr/bin/env bash
# The README's mutant table: each mutant under stress (30 s), free-running fuzz (60 s) and
# controlled fuzz (60 s), and how often each fuzz repro replays (10 runs).
# Usage: tools/mutant-table.sh [SEED] [MUTANT...]   (default seed 1, every mutant)
set -u
cd "$(dirname "$0")/.."
seed=${1:-1}
shift || true
mutants=("$@")
if [ ${#mutants[@]} -eq 0 ]; then
  mapfile -t mutants < <(node cli/bin.mjs stress --list-mutants | awk 'NF && $1 !~ /:$/ {print $1}')
fi
out=$(mktemp -d)
echo "| mutant | stress (30 s) | free-running fuzz (60 s) | replay | controlled fuzz (60 s) | replay |"
echo "| --- | --- | --- | --- | --- | --- |"
for m in "${mutants[@]}"; do
  s=$(node cli/bin.mjs stress --duration 30s --inject "$m" --seed "$seed" --quiet 2>&1 |
    sed -nE 's/^VIOLATION of guarantee ([0-9]+) \(([a-z-]+)\) at ([0-9.]+)s.*/G\1 \2, \3 s/p; s/^VIOLATION of guarantee ([TW][0-9]+) \(([a-z-]+)\) at ([0-9.]+)s.*/\1 \2, \3 s/p; s/^KERNEL REPORT \(([a-z-]+)\) at ([0-9.]+)s.*/\1, \2 s/p' | head -1)
  row="| $m | ${s:-missed} |"
  for mode in free controlled; do
    flag=""; [ "$mode" = controlled ] && flag="--controlled"
    dir="$out/$m-$mode"
    log=$(node cli/bin.mjs fuzz --inject "$m" --duration 60s --seed "$seed" $flag --quiet --out "$dir" 2>&1)
    found=$(echo "$log" | sed -nE 's/.*found after ([0-9.]+)s.*/\1 s/p' | head -1)
    oracle=$(echo "$log" | sed -nE 's/^VIOLATION of guarantee ([0-9]+) \(([a-z-]+)\).*/G\1 \2/p; s/^VIOLATION of guarantee ([TW][0-9]+) \(([a-z-]+)\).*/\1 \2/p; s/^VIOLATION \(([a-z-]+)\).*/\1/p' | head -1)
    file=$(ls "$dir"/*.json 2>/dev/null | head -1)
    if [ -n "$file" ]; then
      rate=$(node cli/bin.mjs replay "$file" --times 10 2>&1 | sed -nE 's/.*reproduced ([0-9]+\/[0-9]+) runs.*/\1/p; s/.*did not reproduce \(([0-9]+\/[0-9]+) runs\).*/\1/p' | head -1)
      row="$row ${oracle:-?}, $found | ${rate:-?} |"
    else
      row="$row missed | - |"
    fi
  done
  echo "$row"
done
rm -rf "$out"
