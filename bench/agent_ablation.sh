#!/usr/bin/env bash
# The agent pipeline with the shipped reader, step by step (README: "The agent pipeline and the
# reader"): `openbook eval qa` on the first 100 held-out questions of a SQuAD-Shifts set plus 20
# of the next set asked of it (unanswerable there), for `ft-rag` and `ft-agent` variants:
#   rag                  ft-rag: top-6 chunks of the question, no gate, the reader
#   old                  ft-agent as it was: distilled note, 4 chunks per piece, per-chunk gate
#   nodistill-k6         whole passages (what `pipeline.distill` unset gives the reader), 6 per piece
#   nodistill-nofilter-k6  ... and no relevance filter
#   bare-k6              ... and no split, rewrite or HyDE (the question alone through the gate)
#   nearest-k6           whole passages, 6 per piece, gate "nearest"
#   [SETS="reddit amazon_reviews"] [VARIANTS="rag old"] bash bench/agent_ablation.sh [OUT]
# then: .venv/bin/python bench/agent_table.py OUT
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/agent}
data=${SQUAD_SHIFTS:-${XDG_CACHE_HOME:-$HOME/.cache}/openbook/datasets/squad_shifts}
all=(new_wiki nyt reddit amazon_reviews)
read -r -a sets <<< "${SETS:-${all[*]}}"
read -r -a variants <<< "${VARIANTS:-rag old nodistill-k6 nodistill-nofilter-k6 bare-k6 nearest-k6}"
P=OPENBOOK_PIPELINE__
whole=("${P}DISTILL=false" "${P}K_PER_PIECE=6")
for s in "${sets[@]}"; do
  for i in "${!all[@]}"; do [ "${all[$i]}" = "$s" ] && other=${all[$(((i + 1) % 4))]}; done
  for v in "${variants[@]}"; do
    config=ft-agent
    case $v in
      rag) config=ft-rag; env=() ;;
      old) env=("${P}DISTILL=true" "${P}K_PER_PIECE=4" "${P}GATE=chunk") ;;
      nodistill-k6) env=("${whole[@]}") ;;
      nodistill-nofilter-k6) env=("${whole[@]}" "${P}FILTER=false") ;;
      bare-k6) env=("${whole[@]}" "${P}FILTER=false" "${P}SPLIT=false" "${P}REWRITE=false" "${P}HYDE=false") ;;
      nearest-k6) env=("${whole[@]}" "${P}GATE=nearest") ;;
      *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
    echo "== $s $v $(date +%T)"
    env "${env[@]}" .venv/bin/openbook eval qa --dataset "$data/${s}_v1.0.json" --split test --limit 100 \
      --unanswerable-from "$data/${other}_v1.0.json" --unanswerable 20 --configs "$config" --out "$out/$s-$v"
  done
done
