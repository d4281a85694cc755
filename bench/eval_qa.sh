#!/usr/bin/env bash
# `openbook eval qa` on held-out questions of the four SQuAD-Shifts sets (the README's table):
# the first 100 test-split questions of each set, plus UNANSWERABLE (default 20) questions of the
# next set asked of it (unanswerable there). Fetch the data first:
#   .venv/bin/python bench/fetch_squad_shifts.py
#   [UNANSWERABLE=N] [SETS="nyt reddit"] [READER=x.gguf] bash bench/eval_qa.sh [CONFIGS] [OUT]
# READER: another reader adapter for the ft-* configurations (a rerun of the recipe).
# (default configs: base,oracle,rag,agent,llamaindex)
set -euo pipefail
cd "$(dirname "$0")/.."
configs=${1:-base,oracle,rag,agent,llamaindex}
out=${2:-bench/results/qa}
data=${SQUAD_SHIFTS:-${XDG_CACHE_HOME:-$HOME/.cache}/openbook/datasets/squad_shifts}
all=(new_wiki nyt reddit amazon_reviews)
read -r -a sets <<< "${SETS:-${all[*]}}"
reader=(); [ -n "${READER:-}" ] && reader=(--reader "$READER")
for s in "${sets[@]}"; do
  for i in "${!all[@]}"; do [ "${all[$i]}" = "$s" ] && other=${all[$(((i + 1) % 4))]}; done
  /usr/bin/time -f "$s: %e s wall" .venv/bin/openbook eval qa --dataset "$data/${s}_v1.0.json" \
    --split test --limit 100 --unanswerable-from "$data/${other}_v1.0.json" --unanswerable "${UNANSWERABLE:-20}" \
    --configs "$configs" "${reader[@]}" --out "$out/$s"
done
