#!/usr/bin/env bash
# Fine-tuning *for* retrieval, measured: train the learned rewriter on the training articles of
# the dev corpora (best-of-n rewrites scored by retrieval, two rounds), then compare, on their
# held-out (test) questions, retrieval of the question alone, of the question plus the base model's
# rewrites, and of the question plus the learned rewriter's (`eval retrieval --rewrites`).
#
#   PER_SET=60 SAMPLES=3 W=1 bash bench/rewriter_experiment.sh [OUT]      (about 1.5 h on 2 CPU cores)
#
# W: retrieval.rewrite_weight while rewrites are scored for training (1: rewrites count as much as
# the question, so the rewriter learns what helps at full weight); the evaluations below run at
# the product's default and at W.
#
# Needs the datasets of bench/fetch_squad_shifts.py and bench/fetch_dev_corpora.py.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/rewriter}
PER_SET=${PER_SET:-60}
W=${W:-1}
SAMPLES=${SAMPLES:-3}
LIMIT=${LIMIT:-200}
D=${DATASETS:-$HOME/.cache/openbook/datasets}
SETS=("$D/squad_shifts/new_wiki_v1.0.json" "$D/squad_shifts/nyt_v1.0.json" "$D/squad_shifts/reddit_v1.0.json"
      "$D/squad_shifts/amazon_reviews_v1.0.json" "$D/nq-wiki" "$D/coqa")
QA=(); EVAL=()
for s in "${SETS[@]}"; do QA+=(--qa "$s"); EVAL+=(--dataset "$s"); done
FIG=bench/figures/rewriter
mkdir -p "$OUT" "$FIG"

OPENBOOK_RETRIEVAL__REWRITE_WEIGHT=$W .venv/bin/openbook finetune rewriter --method generate "${QA[@]}" --out "$OUT" --per-set "$PER_SET" --samples "$SAMPLES" \
  --rounds 2 --json > "$OUT/report.out.json"
cp "$OUT/report.json" "$FIG/report.json"
cp "$OUT/openbook-rewriter.json" "$FIG/openbook-rewriter.card.json"

# Held-out questions: the question alone and with the base model's rewrites, and with the learned
# rewriter's, at the default rewrite weight and at W (rewrites are cached: the second pass only
# retrieves).
for w in default "$W"; do
  env=(); [ "$w" = default ] || env=(OPENBOOK_RETRIEVAL__REWRITE_WEIGHT=$w)
  env "${env[@]}" .venv/bin/openbook eval retrieval "${EVAL[@]}" --split test --limit "$LIMIT" --rewrites \
    --json > "$FIG/eval-base-w$w.json"
  env "${env[@]}" OPENBOOK_MODELS__REWRITER__LORA="$PWD/$OUT/openbook-rewriter.gguf" \
    .venv/bin/openbook eval retrieval "${EVAL[@]}" --split test --limit "$LIMIT" --rewrites --json > "$FIG/eval-learned-w$w.json"
  .venv/bin/python bench/rewriter_table.py "$FIG/eval-base-w$w.json" "$FIG/eval-learned-w$w.json" | tee "$FIG/table-w$w.md"
done
