#!/usr/bin/env bash
# Regenerates the protobuf-c code for onnx.proto (Debian: protobuf-c-compiler). The output is
# committed, so building never needs protoc-c; run this only after updating onnx.proto.
#
#   schemas/generate.sh                      regenerate from schemas/onnx.proto
#   schemas/generate.sh path/to/onnx.proto   copy that schema in first (the onnx wheel ships it:
#                                            python -c "import onnx, os; print(os.path.dirname(onnx.__file__))")
#
# Layout expected by Package.swift (target COnnxProto, path schemas/generated, public headers in
# include/): generated/onnx.pb-c.c and generated/include/onnx.pb-c.h. The header includes
# <protobuf-c/protobuf-c.h>, found through the CProtobufC system library's pkg-config flags.
set -euo pipefail
cd "$(dirname "$0")"
command -v protoc-c >/dev/null || { echo "protoc-c not found (apt-get install protobuf-c-compiler)" >&2; exit 1; }
if [ $# -ge 1 ]; then cp "$1" onnx.proto; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --c_out="$tmp" onnx.proto
mkdir -p generated/include
# The .c sits one folder above the header; point its include there.
sed 's|#include "onnx.pb-c.h"|#include "include/onnx.pb-c.h"|' "$tmp/onnx.pb-c.c" > generated/onnx.pb-c.c
cp "$tmp/onnx.pb-c.h" generated/include/onnx.pb-c.h
echo "generated/onnx.pb-c.c and generated/include/onnx.pb-c.h written ($(protoc-c --version | head -n1))"
