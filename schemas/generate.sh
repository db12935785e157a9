#!/usr/bin/env bash
# Regenerates the protobuf-c code for onnx.proto (Debian: protobuf-c-compiler). The output is
# committed, so building never needs protoc-c; run this only after updating onnx.proto (copied
# from the onnx wheel: python -c "import onnx, os; print(os.path.dirname(onnx.__file__))").
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --c_out="$tmp" onnx.proto
mkdir -p generated/include
sed 's|#include "onnx.pb-c.h"|#include "include/onnx.pb-c.h"|' "$tmp/onnx.pb-c.c" > generated/onnx.pb-c.c
cp "$tmp/onnx.pb-c.h" generated/include/onnx.pb-c.h
echo "generated/onnx.pb-c.c and generated/include/onnx.pb-c.h written"
