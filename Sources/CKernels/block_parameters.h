#ifndef ONNX_EXPORT_BLOCK_PARAMETERS_H
#define ONNX_EXPORT_BLOCK_PARAMETERS_H
/* What the two block quantization kernels share (a private header of CKernels): the rounding,
   the scales and zero points of blocks from their extremes, and the scales' storage, so a matrix
   quantized by rows and its transpose quantized by columns can never differ. The arithmetic is
   onnxruntime's own quantizer's (MlasQuantizeBlockwise, behind its MatMulNBitsQuantizer), in
   float32; no multiply-add is fused (the contraction would round once where the reference rounds
   twice). */
#include "kernels.h"
#include "kernel_support.h"

#pragma STDC FP_CONTRACT OFF

#define MAX_BLOCK 256

/* Where one output row's parts go: its blocks, the bytes of one block's packed values, of one
   scale, and of the row's zero points. */
struct row_layout {
    size_t blocks, blob, scale_width, zero_width;
};

/* The layout of rows of `k` values; 0 for settings the kernels refuse (the callers check first). */
static inline int row_layout_of(size_t k, size_t block, int bits, int scale_type, struct row_layout *layout) {
    if (block == 0 || block > MAX_BLOCK || (bits != 4 && bits != 8)) return 0;
    layout->blocks = (k + block - 1) / block;
    layout->blob = block * (size_t)bits / 8;
    layout->scale_width = scale_type == OE_TYPE_FLOAT32 ? 4 : 2;
    layout->zero_width = (layout->blocks * (size_t)bits + 7) / 8;
    return 1;
}

/* The value rounded half away from zero (C's roundf, which onnxruntime uses) for y in [0, 2^24):
   truncation and the exact fraction left, in operations that vectorise. */
static inline __attribute__((always_inline)) uint8_t round_half_away(float y) {
    const int32_t t = (int32_t)y;
    return (uint8_t)(t + ((y - (float)t) >= 0.5f));
}

/* Blocks handled together: their statistics first, then their scales and zero points in one loop
   (so the divisions run as vector code, several blocks at once, instead of one chain per block),
   then their values. */
#define GROUP 64

/* Scales and zero points of `n` blocks from their extremes; `zero` holds each block's zero point
   as a float. */
static inline __attribute__((always_inline)) void block_parameters(
    const float *lo, const float *hi, size_t n, int bits, int symmetric, float *scale, float *zero) {
    const float top = (float)((1 << bits) - 1);
    const float half = (float)(1 << (bits - 1));
    if (symmetric) {
        /* The element of largest magnitude maps to -2^(bits-1) (the wider half of the range). */
        for (size_t b = 0; b < n; b++) {
            const float extreme = (hi[b] < 0 ? -hi[b] : hi[b]) > (lo[b] < 0 ? -lo[b] : lo[b]) ? hi[b] : lo[b];
            scale[b] = -extreme / half;
            zero[b] = half;
        }
        return;
    }
    for (size_t b = 0; b < n; b++) {
        /* The range always holds 0, so zero is exactly representable. */
        const float l = lo[b] < 0.0f ? lo[b] : 0.0f;
        const float h = hi[b] > 0.0f ? hi[b] : 0.0f;
        const float s = (h - l) / top;
        float z = s != 0.0f ? 0.0f - l / s : l;
        z = z > 0.0f ? z : 0.0f; /* NaN (infinite weights) becomes 0 */
        z = z < top ? z : top;
        scale[b] = s;
        zero[b] = (float)round_half_away(z);
    }
}

/* Each scale stored in its type (at `out`, consecutive), and the value the quantization divides
   by: the stored one, widened back. */
static inline __attribute__((always_inline)) void store_scales(const float *scale, size_t n, int scale_type,
                                                              unsigned char *out, float *reciprocal) {
    float stored[GROUP];
    if (scale_type == OE_TYPE_FLOAT16) {
        for (size_t b = 0; b < n; b++) {
            const uint16_t h = half_of(bits_of(scale[b]));
            store16(out + 2 * b, h);
            stored[b] = float_of(float_of_half(h));
        }
    } else if (scale_type == OE_TYPE_BFLOAT16) {
        for (size_t b = 0; b < n; b++) {
            const uint16_t h = bfloat16_of(bits_of(scale[b]));
            store16(out + 2 * b, h);
            stored[b] = float_of(float_of_bfloat16(h));
        }
    } else {
        for (size_t b = 0; b < n; b++) {
            store32(out + 4 * b, bits_of(scale[b]));
            stored[b] = scale[b];
        }
    }
    for (size_t b = 0; b < n; b++) reciprocal[b] = stored[b] != 0.0f ? 1.0f / stored[b] : 0.0f;
}

#endif
