#!/usr/bin/env bash
# The seeds' experiment on one corpus: does fine-tuning on a corpus's questions teach a 135M model
# the corpus, or is retrieval what answers? One SQuAD-Shifts set (default new_wiki):
#   1. data: RAFT examples from the FIRST half of each training article's questions (a seeded draw
#      per question), oracle kept 80% of the time and, as in RAFT, the answer as the target when it
#      is left out (the model must then answer from what training put in its weights);
#   2. train a LoRA on the bundled base (fresh, not on top of the shipped reader);
#   3. eval qa: base / ft (closed book) / rag / ft-rag, on the SECOND half of the same articles'
#      questions (same articles, unseen questions) and on the test split (unseen articles).
#   [SET=new_wiki] [N=100] [PER_SET=1200] bash bench/corpus_experiment.sh [data|train|eval|all]
# Every article of the training split is trained on (--val-share 0), so "same articles" means it.
# Training takes minutes on a GPU, hours on 2 CPU cores (see assistant/models/reader/NOTES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
set_name=${SET:-new_wiki}
data=${SQUAD_SHIFTS:-${XDG_CACHE_HOME:-$HOME/.cache}/openbook/datasets/squad_shifts}/${set_name}_v1.0.json
dir=build/corpus-$set_name
out=bench/results/corpus/$set_name
step=${1:-all}
if [[ $step == data || $step == all ]]; then
  .venv/bin/openbook finetune data --qa "$data" --half first --per-set "${PER_SET:-1200}" --distractors 5 \
    --passage-words 0 --p-oracle 0.8 --no-oracle answer --val-share 0 --out "$dir/data"
fi
if [[ $step == train || $step == all ]]; then
  .venv/bin/openbook finetune train --data "$dir/data" --out "$dir/run" --rank 16 --alpha 32 --lr 3e-4 \
    --batch 8 --epochs 2 --max-len 1536 --seed 0
  .venv/bin/openbook finetune export --adapter "$dir/run" --out "$dir/corpus-$set_name.gguf" \
    --probe "$dir/data/train.jsonl" --data "$dir/data"
fi
if [[ $step == eval || $step == all ]]; then
  for part in "train second same-articles" "test both unseen-articles"; do
    read -r split half name <<< "$part"
    .venv/bin/openbook eval qa --dataset "$data" --split "$split" --half "$half" --sample "${N:-100}" \
      --configs base,ft,rag,ft-rag --reader "$dir/corpus-$set_name.gguf" --out "$out/$name"
  done
fi
