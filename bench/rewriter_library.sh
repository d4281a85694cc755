#!/usr/bin/env bash
# A rewriter that knows the library, measured (README, "does a learned rewriter pay?"): per
# corpus, export the LoRA trained on bench/rewriter_library.py's data (trained on a GPU with
# bench/reader_seeds_gpu.sh, or `openbook finetune train --data OUT/data`), then `eval retrieval
# --rewrites` on the corpus's held-out questions with the base model's rewrites and with the
# learned ones, at the product's rewrite weight and at weight 1; and how well each rewriter's
# rewrites find the right document without the question (bench/rewrite_alone.py).
#
#   bash bench/rewriter_library.sh NAME:DATASET ...        (NAME: build/rwlib/NAME, run folder build/v2/run-NAME-seed0)
set -euo pipefail
cd "$(dirname "$0")/.."
FIG=bench/figures/rewriter-library
LIMIT=${LIMIT:-200}
mkdir -p "$FIG"
for spec in "$@"; do
  name=${spec%%:*} ds=${spec#*:}
  out=build/rwlib/$name run=build/v2/run-$name-seed0
  [ -f "$out/openbook-rewriter.gguf" ] || .venv/bin/openbook finetune export --adapter "$run" \
    --out "$out/openbook-rewriter.gguf" --probe "$out/data/val.jsonl" --data "$out/data" --json > "$out/export.json"
  for w in default 1; do
    env=(); [ "$w" = default ] || env=(OPENBOOK_RETRIEVAL__REWRITE_WEIGHT=$w)
    env "${env[@]}" .venv/bin/openbook eval retrieval --dataset "$ds" --split test --limit "$LIMIT" --rewrites \
      --json > "$FIG/$name-base-w$w.json"
    env "${env[@]}" OPENBOOK_MODELS__REWRITER__LORA="$PWD/$out/openbook-rewriter.gguf" .venv/bin/openbook eval retrieval \
      --dataset "$ds" --split test --limit "$LIMIT" --rewrites --json > "$FIG/$name-learned-w$w.json"
  done
  # The rewrites alone (no question): base, the feedback-learned rewriter of rewriter_experiment.sh, this one.
  .venv/bin/python bench/rewrite_alone.py "$ds" "$FIG/$name-base-wdefault.json" \
    bench/figures/rewriter/eval-learned-wdefault.json "$FIG/$name-learned-wdefault.json" | tee "$FIG/$name-alone.txt"
  cp "$out/summary.json" "$FIG/$name-data.json"
  cp "$run/train.json" "$FIG/$name-train.json"
done
for w in default 1; do
  jq -s 'add' "$FIG"/*-base-w$w.json > /tmp/rwlib-base.json
  jq -s 'add' "$FIG"/*-learned-w$w.json > /tmp/rwlib-learned.json
  .venv/bin/python bench/rewriter_table.py /tmp/rwlib-base.json /tmp/rwlib-learned.json | tee "$FIG/table-w$w.md"
done
