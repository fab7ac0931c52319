#!/usr/bin/env bash
# Create the tensorflow-compression reference virtualenv at <repo>/.venv-tfc (see envs/tfc.yaml).
# Idempotent: does nothing when .venv-tfc already imports tensorflow_compression.
# Usage: scripts/make_tfc_venv.sh          (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/.venv-tfc"
python="${PYTHON:-python3}"

fail() { echo "make_tfc_venv: $*" >&2; exit 1; }

imports_tfc() {
  [ -x "${venv}/bin/python" ] && TF_CPP_MIN_LOG_LEVEL=3 "${venv}/bin/python" -c \
    "import tensorflow_compression" >/dev/null 2>&1
}

if imports_tfc; then
  echo "make_tfc_venv: ${venv} already provides tensorflow_compression"
  exit 0
fi

command -v "${python}" >/dev/null 2>&1 || fail "interpreter '${python}' not found (set PYTHON)"
"${python}" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
  || fail "'${python}' is not Python 3.11, which tensorflow 2.14 wheels require (set PYTHON)"

echo "make_tfc_venv: creating ${venv} (downloads a few hundred MB from PyPI)"
"${python}" -m venv "${venv}" || fail "could not create a virtualenv at ${venv}"
"${venv}/bin/python" -m pip install --quiet --upgrade pip \
  || fail "could not upgrade pip in ${venv}"
"${venv}/bin/python" -m pip install --quiet \
    tensorflow-cpu==2.14.1 tensorflow-compression==2.14.1 'numpy<2' \
  || fail "pip install of tensorflow-cpu 2.14.1 / tensorflow-compression 2.14.1 failed"

imports_tfc || fail "${venv} was built but cannot import tensorflow_compression"
echo "make_tfc_venv: ${venv} ready"
