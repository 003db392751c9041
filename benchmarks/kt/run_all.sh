#!/usr/bin/env bash
# The full knowledge-tracing benchmark: every split, pyBKT alongside, every fit in a fresh process
# (its own peak memory), and on every split the best model chosen by cross-validation over the
# training students; writes benchmarks/results/kt-* and collects the acceptance figures into
# benchmarks/results/kt-summary.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=.venv/bin
[ -x benchmarks/.pybkt-venv/bin/python ] || benchmarks/kt/setup_pybkt.sh
cv="bkt-forget,pfa,best-lr+,best-lr+ C=0.1,boosted"
# ASSISTments 2015 takes the fastest of 3 timed fits a side (BKT and pyBKT); the others 1 fit a
# side, which keeps the whole run near an hour on 2 shared cores (pyBKT's fits dominate there).
"$bin/learnway" bench kt --dataset dkvmn/assist2015 --memory --cv-models "$cv"
for dataset in dkvmn/STATICS dkvmn/assist2009_updated; do
  "$bin/learnway" bench kt --dataset "$dataset" --memory --fit-repeats 1 --cv-models "$cv"
done
# assist2009-dkt can also run the DKT models (the deep extra: torch): add dkt,dkt-features to
# --models there, and dkt-features to --cv-models (several minutes per fit on 2 cores)
"$bin/learnway" bench kt --dataset assist2009-dkt --memory --fit-repeats 1 --cv-models "$cv"
"$bin/learnway" bench kt --dataset synthetic-5 --memory --fit-repeats 1 --cv-models "$cv" \
  --models bkt,bkt-forget,bkt-item,pfa,best-lr,best-lr+,elo,boosted,pybkt,pybkt-forget
"$bin/python" benchmarks/kt/summarize.py benchmarks/results
