#!/bin/bash
# Train a preset on a lent GPU machine (the workplace `device` tool), self-contained within one 10-minute call.
#
#   here:    bash scripts/device_train.sh prepare      # packs ../shared/data/fer2013/train into .gpu/ (git-ignored
#                                                      # via .git/info/exclude) with an optional init model
#   device:  LIMIT=545 bash scripts/device_train.sh run default-gpu 115 98 [--set key=value ...]
#            (carry [".gpu"]; a warm restart adds --set train.init_from=.gpu/init_model.pt)
#   here:    cat <files_at>/pack.tar.part-* | tar xf - -C runs/<name>   # model.pt, metrics.csv, config.json, log
#   several runs side by side on one GPU: give each a TAG (its folders and parts are named after it), e.g.
#            TAG=a bash scripts/device_train.sh run history/default-gpu-kd 150 128 & TAG=b bash ... ; wait
#            (the small net already keeps an H200 ~95 % busy: two runs share its ~8,300 images/s)
#   PACK_SWA=1 also brings back swa_model.pt (keep all parts of one call under ~60 MB)
#
# `run` unpacks the data, trains with a hard wall limit (LIMIT seconds; train.max_minutes a minute under it), and
# packs the result into $OUT in 15 MB parts (the tool returns at most 16 MB per file). This is how the shipped
# default (v2) was trained; see training/README.md.
set -u
case "${1:-}" in
prepare)
  mkdir -p .gpu .git/info
  grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
  tar czf .gpu/fer_train.tgz -C "${BLOOMWELL_DATA_ROOT:-../shared/data}" fer2013/train
  [ -n "${INIT_MODEL:-}" ] && cp "$INIT_MODEL" .gpu/init_model.pt
  du -sh .gpu ;;
run)
  export PYTHONUNBUFFERED=1
  P=$2; EP=$3; SWA=$4; LIMIT=${LIMIT:-540}; shift 4
  C=${TAG:-$P}; PACK=/tmp/pack-$C; PREFIX=${TAG:+$TAG.}
  T0=$(date +%s)
  mkdir -p /tmp/gr "$PACK"
  # unpack once (side-by-side runs share it): the first run unpacks into a temp folder and renames it
  if mkdir /tmp/data.lock 2>/dev/null; then
    mkdir -p /tmp/data.tmp && tar xzf .gpu/fer_train.tgz -C /tmp/data.tmp && mv /tmp/data.tmp /tmp/data
  fi
  while [ ! -d /tmp/data ]; do sleep 1; done
  timeout "$LIMIT" python3 -m training.train --config "training/configs/$P.yaml" --data-root /tmp/data \
    --set "data.cache_dir=/tmp/cache-$C" --out-dir "/tmp/gr/$C" --set "train.epochs=$EP" \
    --set "swa.start_epoch=$SWA" --set "train.max_minutes=$(( (LIMIT - 60) / 60 ))" "$@" > "/tmp/gr/$C.log" 2>&1
  echo "rc=$? t=$(( $(date +%s) - T0 ))s"
  grep -ao "fit to.*\|distilling.*" "/tmp/gr/$C.log"
  grep -ao "epoch=[0-9]* .*" "/tmp/gr/$C.log" | awk 'NR%10==0' | cut -c1-230
  grep -a "Error" "/tmp/gr/$C.log" | tail -3; cat "/tmp/gr/$C/summary.json"
  cp "/tmp/gr/$C/metrics.csv" "/tmp/gr/$C/config.json" "/tmp/gr/$C/summary.json" "/tmp/gr/$C.log" "$PACK"/ 2>/dev/null
  # the tool returns ~64 MB per call in all: side by side, two runs' model.pt + swa_model.pt lost a part
  [ -n "${PACK_SWA:-}" ] && cp "/tmp/gr/$C/swa_model.pt" "$PACK"/ 2>/dev/null
  if [ -f "/tmp/gr/$C/model.pt" ]; then cp "/tmp/gr/$C/model.pt" "$PACK"/; else  # stopped early: best weights
    python3 -c "
import torch
ck = torch.load('/tmp/gr/$C/checkpoints/best.pt', map_location='cpu', weights_only=False)
torch.save({'spec': ck['spec'], 'state_dict': ck['model'], 'epoch': ck['epoch']}, '$PACK/best_weights.pt')"
  fi
  tar cf "$PACK.tar" -C "$PACK" . && split -b 15m "$PACK.tar" "$OUT/${PREFIX}pack.tar.part-"
  echo "total t=$(( $(date +%s) - T0 ))s" ;;
*) sed -n 2,14p "$0"; exit 2 ;;
esac
