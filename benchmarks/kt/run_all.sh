#!/usr/bin/env bash
# The full knowledge-tracing benchmark: every split, pyBKT alongside; writes benchmarks/results/kt-*
# and collects the acceptance figures into benchmarks/results/kt-summary.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=.venv/bin
[ -x benchmarks/.pybkt-venv/bin/python ] || benchmarks/kt/setup_pybkt.sh
# assist2009-dkt also runs the two DKT models (they need the deep extra: torch)
"$bin/learnway" bench kt --dataset assist2009-dkt \
  --models bkt,bkt-forget,pfa,best-lr,best-lr+,elo,boosted,dkt,dkt-features,pybkt,pybkt-forget
for dataset in dkvmn/assist2009_updated dkvmn/STATICS; do
  "$bin/learnway" bench kt --dataset "$dataset"
done
"$bin/learnway" bench kt --dataset dkvmn/assist2015 --memory
"$bin/learnway" bench kt --dataset synthetic-5 \
  --models bkt,bkt-forget,bkt-item,pfa,best-lr,best-lr+,elo,boosted,pybkt,pybkt-forget
"$bin/python" benchmarks/kt/summarize.py benchmarks/results
