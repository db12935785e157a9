#ifndef ONNX_EXPORT_KERNELS_H
#define ONNX_EXPORT_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// dst[c * dst_stride + r] = src[r * cols + c] for a `rows` × `cols` matrix of 4-byte elements
/// (float32 weights going from PyTorch's [out, in] to MatMul's [in, out]); `dst_stride` is `rows`
/// for a whole matrix, larger when the rows are split between threads. No overlap allowed.
void oe_transpose32(const uint32_t *src, uint32_t *dst, size_t rows, size_t cols, size_t dst_stride);

/// Element-wise float conversions over `count` little-endian elements (no alignment needed, no
/// overlap allowed). Narrowing rounds to nearest even and saturates finite values at the target's
/// largest finite value; infinities and NaN are kept. Widening is exact.
void oe_float32_to_float16(const void *src, void *dst, size_t count);
void oe_float32_to_bfloat16(const void *src, void *dst, size_t count);
void oe_float16_to_float32(const void *src, void *dst, size_t count);
void oe_bfloat16_to_float32(const void *src, void *dst, size_t count);

/// Float types of the quantization kernels' sources and scales.
#define OE_TYPE_FLOAT32 0
#define OE_TYPE_FLOAT16 1
#define OE_TYPE_BFLOAT16 2

/// Block-wise quantization of `rows` rows of `k` values of `source_type` (row-major, stride `k`, no
/// alignment needed; half precision is widened exactly as it is read) as com.microsoft.MatMulNBits
/// stores its weight B, with onnxruntime's
/// round-to-nearest arithmetic: per row, `ceil(k / block)` blocks, the last padded with zeros.
/// Writes per row `blocks × block × bits / 8` bytes to `packed` (4 bits: low nibble first; NULL
/// computes scales and zero points only), `blocks` scales of `scale_type` to `scales`, and, when
/// not `symmetric`, `ceil(blocks × bits / 8)` bytes of zero points (4 bits: low nibble first).
/// `bits` is 4 or 8, `block` at most 256. Every block depends only on its own elements, so the
/// result is the same however rows are split between calls or threads.
void oe_quantize_blocks(const void *src, int source_type, size_t rows, size_t k, size_t block, int bits, int symmetric,
                        int scale_type, uint8_t *packed, void *scales, uint8_t *zero_points);

/// `oe_quantize_blocks` on the transpose of a row-major `[k, stride]` float32 matrix, without
/// transposing it: quantizes `columns` consecutive columns starting at `src` (each a row of the
/// transpose, blocks along k) and writes one output row per column, the same bytes
/// `oe_quantize_blocks` writes for those rows of the transpose (GPT-2's `Conv1D` `[in, out]`).
void oe_quantize_block_columns(const void *src, size_t stride, size_t k, size_t columns, size_t block, int bits,
                               int symmetric, int scale_type, uint8_t *packed, void *scales, uint8_t *zero_points);

/// Continues the CRC-32C register `*crc` (pre-inverted by the caller, as the table code does)
/// over `count` bytes with the CPU's CRC instruction. Returns 1, or 0 without touching `*crc`
/// where the CPU has no such instruction (the caller then uses its tables).
int oe_crc32c_hardware(uint32_t *crc, const void *data, size_t count);

/// Continues the zip CRC-32 register `*crc` (pre-inverted by the caller, as for CRC-32C) over
/// `count` bytes by carry-less multiplication (x86-64 PCLMULQDQ). Returns 1, or 0 without
/// touching `*crc` where the CPU lacks the instruction or `count` is under 64 bytes (the caller
/// then uses zlib's `crc32`).
int oe_crc32_hardware(uint32_t *crc, const void *data, size_t count);

#endif
