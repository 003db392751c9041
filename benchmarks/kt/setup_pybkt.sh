#!/usr/bin/env bash
# Build the peer for `learnway bench kt`: pyBKT 1.4.3 compiled from its source package (C++ E-step),
# in a virtual environment of its own, kept apart from Learnway's (pyBKT needs scikit-learn < 1.6).
# `make test` runs it when the environment is missing: the harness's tests run pyBKT beside
# Learnway's models.
#
#   benchmarks/kt/setup_pybkt.sh            # creates benchmarks/.pybkt-venv
#   PYBKT_VENV=/some/where benchmarks/kt/setup_pybkt.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${PYBKT_VENV:-$here/../.pybkt-venv}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

# The C++ E-step needs a compiler: Debian's, when none is installed.
if ! command -v g++ >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y g++
fi

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# pyBKT 1.4.3 does not import with scikit-learn >= 1.6; its build needs numpy and setuptools present.
"$venv/bin/python" -m pip install --quiet "numpy<2" "scikit-learn==1.5.2" "pandas<2.3" requests setuptools wheel

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" -m pip download --quiet --no-binary :all: --no-deps pybkt==1.4.3 -d "$work"
"$venv/bin/python" -m pip install --quiet --no-build-isolation --no-deps "$work"/pybkt-1.4.3.tar.gz \
  || "$venv/bin/python" -m pip install --quiet --no-build-isolation --no-deps "$work"/pyBKT-1.4.3.tar.gz

# pyBKT's setup falls back to pure Python without a word when the C++ build fails: refuse that.
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
plat="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
if ! ls "$site"/pyBKT/fit/E_step*.so "$plat"/pyBKT/fit/E_step*.so >/dev/null 2>&1; then
  echo "pyBKT was installed without its C++ E-step (no pyBKT/fit/E_step*.so): refusing" >&2
  exit 1
fi
"$venv/bin/python" -c 'from pyBKT.models import Model; print("pyBKT C++ build ready")'
