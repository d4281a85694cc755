#!/usr/bin/env bash
# The agent pipeline with the shipped reader, step by step (README: "The agent pipeline and the
# reader"): `openbook eval qa` on the first 100 held-out questions of a SQuAD-Shifts set plus 20
# of the next set asked of it (unanswerable there), for `ft-rag` and `ft-agent` variants:
#   rag                  ft-rag: the question's top-6 chunks, no gate, the reader
#   old                  ft-agent with the old defaults: distilled note, relevance filter, 4 chunks
#                        per piece, per-chunk gate at 0.65
#   chunk-k6             ft-agent, whole passages (no distill), 6 chunks per piece, the relevance
#                        filter on, and the per-chunk gate at 0.65 (the old gate)
#   chunk-nofilter-k6    ... without the filter
#   passages-k6          whole passages (pipeline.distill = false), no filter, 6 per piece, gate
#                        "nearest" at 0.7
#   note-k6              the same with the distilled note (reread off); run with the note of
#                        before (embedding only, 2 sentences a passage, no pronoun successors)
#   blend-note-k6        the same settings, run with today's note (blend, 3 a passage, successors)
#   no-support           today's defaults without the support check (pipeline.support = 0): the
#                        blended note, and the reread of whole passages after a decline from it
#   nearest-gate         the support check's defaults: the gate on the nearest retrieved chunk to
#                        any search text, rewrites too (pipeline.gate = "nearest")
#   question-gate        the gate on the question's own nearest chunk, with the base model's
#                        rewrites (pipeline.rewrite = hyde = true)
#   defaults             today's defaults, nothing set: the question gate, and no rewrites from the
#                        bundled base model
#   calibrated-gate      defaults with the gate `tune retrieval` measures for the library
#                        (GATES=file, default bench/figures/gate/calibration-q0.995.json, written
#                        by bench/gate_calibration.py --quantile Q; the out folder is named
#                        calibrated-gate-qQ)
# Every variant from rag to note-k6 sets pipeline.support = 0 and gate "nearest" (they predate
# both). Every ft-agent variant but defaults ran with the base model's rewrites, then the default,
# and gets them here (pipeline.rewrite = hyde = true).
#   passages-k6-learned-rewriter  passages-k6 with the learned rewriter of
#                        bench/rewriter_experiment.sh (REWRITER=path, default build/rewriter/...)
# READER=file.gguf runs every variant with that reader adapter instead of the shipped one (the
# recipe's reruns: bench/figures/reader/repro/).
#   [SETS="reddit amazon_reviews"] [VARIANTS="rag note-k6"] [READER=x.gguf] bash bench/agent_ablation.sh [OUT]
# then: .venv/bin/python bench/agent_table.py OUT
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/agent}
data=${SQUAD_SHIFTS:-${XDG_CACHE_HOME:-$HOME/.cache}/openbook/datasets/squad_shifts}
all=(new_wiki nyt reddit amazon_reviews)
read -r -a sets <<< "${SETS:-${all[*]}}"
read -r -a variants <<< "${VARIANTS:-rag old chunk-k6 chunk-nofilter-k6 passages-k6 note-k6}"
P=OPENBOOK_PIPELINE__
gates=${GATES:-bench/figures/gate/calibration-q0.995.json}
reader=(); [ -n "${READER:-}" ] && reader=(--reader "$READER")
old_gate=("${P}DISTILL=false" "${P}K_PER_PIECE=6" "${P}GATE=chunk" "${P}MAX_DISTANCE=0.65" "${P}SUPPORT=0")
for s in "${sets[@]}"; do
  for i in "${!all[@]}"; do [ "${all[$i]}" = "$s" ] && other=${all[$(((i + 1) % 4))]}; done
  for v in "${variants[@]}"; do
    config=ft-agent
    case $v in
      rag) config=ft-rag; env=() ;;
      old) env=("${P}DISTILL=true" "${P}FILTER=true" "${P}K_PER_PIECE=4" "${P}GATE=chunk" "${P}MAX_DISTANCE=0.65"
        "${P}SUPPORT=0") ;;
      chunk-k6) env=("${old_gate[@]}" "${P}FILTER=true") ;;
      chunk-nofilter-k6) env=("${old_gate[@]}" "${P}FILTER=false") ;;
      note-k6 | blend-note-k6) env=("${P}DISTILL=true" "${P}FILTER=false" "${P}K_PER_PIECE=6" "${P}GATE=nearest" "${P}MAX_DISTANCE=0.7"
        "${P}REREAD=false" "${P}SUPPORT=0") ;;
      no-support) env=("${P}SUPPORT=0" "${P}GATE=nearest") ;;
      nearest-gate) env=("${P}GATE=nearest") ;;
      question-gate) env=() ;;
      defaults) env=() ;;
      calibrated-gate) env=("${P}MAX_DISTANCE=$(.venv/bin/python -c "import json; print(json.load(open(
        '$gates'))['$s']['calibrated']['max_distance'])")") ;;
      passages-k6) env=("${P}DISTILL=false" "${P}FILTER=false" "${P}K_PER_PIECE=6" "${P}GATE=nearest" "${P}MAX_DISTANCE=0.7"
        "${P}SUPPORT=0") ;;
      passages-k6-learned-rewriter) env=("${P}DISTILL=false" "${P}FILTER=false" "${P}K_PER_PIECE=6" "${P}GATE=nearest"
        "${P}MAX_DISTANCE=0.7" "${P}SUPPORT=0" "OPENBOOK_MODELS__REWRITER__LORA=$PWD/${REWRITER:-build/rewriter/openbook-rewriter.gguf}") ;;
      *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
    if [ "$config" = ft-agent ] && [ "$v" != defaults ] && [ "$v" != calibrated-gate ]; then env+=("${P}REWRITE=true" "${P}HYDE=true"); fi
    name=$v
    [ "$v" = calibrated-gate ] && name=$v$(basename "$gates" .json | sed 's/^calibration//')
    echo "== $s $name $(date +%T)"
    env "${env[@]}" .venv/bin/openbook eval qa --dataset "$data/${s}_v1.0.json" --split test --limit 100 \
      --unanswerable-from "$data/${other}_v1.0.json" --unanswerable 20 --configs "$config" "${reader[@]}" --out "$out/$s-$name"
  done
done
