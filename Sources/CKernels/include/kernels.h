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

/// Continues the CRC-32C register `*crc` (pre-inverted by the caller, as the table code does)
/// over `count` bytes with the CPU's CRC instruction. Returns 1, or 0 without touching `*crc`
/// where the CPU has no such instruction (the caller then uses its tables).
int oe_crc32c_hardware(uint32_t *crc, const void *data, size_t count);

#endif
