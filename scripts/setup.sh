#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine, idempotently:
# the C libraries (protobuf-c, zlib) and a Python virtual environment (.venv) with onnx,
# onnxruntime, numpy and pytest. PyTorch is never needed here (only the fixture script uses it).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
pkg-config --exists libprotobuf-c 2>/dev/null || need_apt+=(libprotobuf-c-dev)
pkg-config --exists zlib 2>/dev/null || need_apt+=(zlib1g-dev)
command -v protoc-c >/dev/null || need_apt+=(protobuf-c-compiler)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq pkg-config "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import onnx, onnxruntime, numpy, pytest" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
fi
