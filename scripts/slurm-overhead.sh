#!/usr/bin/env bash
# Wall time of one quick-profile experiment at one seed, trained locally and then through Slurm
# (`--launcher slurm --wait`), one after the other, into two scratch folders that are removed
# afterwards. Needs a Slurm cluster (scripts/slurm-local.sh up) and the dataset.
#
#   scripts/slurm-overhead.sh [experiment]     (default: se_residual)
set -euo pipefail
cd "$(dirname "$0")/.."
experiment="${1:-se_residual}"
scratch="$(mktemp -d /tmp/bnlab-overhead-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
timed() {
  local start end
  start=$(date +%s.%N)
  "$@" >"$scratch/log" 2>&1 || { cat "$scratch/log"; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
args=(-e "$experiment" --seed-list 1 --profile quick)
local_s=$(BNLAB_RESULTS="$scratch/local" timed deno task study "${args[@]}")
slurm_s=$(BNLAB_RESULTS="$scratch/slurm" timed deno task study "${args[@]}" --launcher slurm --wait --poll 1)
printf 'local %.1f s, slurm %.1f s, overhead %+.1f%%\n' "$local_s" "$slurm_s" \
  "$(echo "($slurm_s / $local_s - 1) * 100" | bc -l)"
