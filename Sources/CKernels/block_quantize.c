#include "kernels.h"
#include "kernel_support.h"

/* Block-wise round-to-nearest quantization for com.microsoft.MatMulNBits, with the arithmetic of
   onnxruntime's own quantizer (MlasQuantizeBlockwise, behind its MatMulNBitsQuantizer), so a
   weight quantized here and one quantized by onnxruntime's tools are the same bytes.

   Determinism: every block depends on its own elements alone, so splitting rows between threads
   or bands cannot change a byte. Within a block, min and max are kept per lane (element i in lane
   i mod 8) and merged in a fixed order: the compiler's vector code and the scalar fallback then
   compute the same thing on every machine. No multiply-add is fused (the contraction would round
   once where the reference rounds twice). */
#pragma STDC FP_CONTRACT OFF

#define LANES 8
#define MAX_BLOCK 256

/* The value rounded half away from zero (C's roundf, which onnxruntime uses) for y in [0, 2^24):
   truncation and the exact fraction left, in operations that vectorise. */
static inline __attribute__((always_inline)) uint8_t round_half_away(float y) {
    const int32_t t = (int32_t)y;
    return (uint8_t)(t + ((y - (float)t) >= 0.5f));
}

/* The least and greatest of `count` elements (NaN ignored), lane by lane, the lanes merged as a
   tree in a fixed order. */
static inline __attribute__((always_inline)) void extremes(const unsigned char *x, size_t count, float *lo, float *hi) {
    float low[LANES], high[LANES];
    for (int l = 0; l < LANES; l++) { low[l] = 3.40282347e+38f; high[l] = -3.40282347e+38f; }
    size_t i = 0;
    for (; i + LANES <= count; i += LANES) {
        for (int l = 0; l < LANES; l++) {
            const float v = float_of(load32(x + 4 * (i + l)));
            low[l] = v < low[l] ? v : low[l];
            high[l] = v > high[l] ? v : high[l];
        }
    }
    for (; i < count; i++) {
        const float v = float_of(load32(x + 4 * i));
        const int l = (int)(i % LANES);
        low[l] = v < low[l] ? v : low[l];
        high[l] = v > high[l] ? v : high[l];
    }
    for (int width = LANES / 2; width > 0; width /= 2) {
        for (int l = 0; l < width; l++) {
            low[l] = low[l + width] < low[l] ? low[l + width] : low[l];
            high[l] = high[l + width] > high[l] ? high[l + width] : high[l];
        }
    }
    /* + 0 turns -0 into +0: which zero a tie keeps depends on the order of the merge, and the column
       kernel below merges in another order. */
    *lo = low[0] + 0.0f;
    *hi = high[0] + 0.0f;
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
    if (scale_type == OE_SCALE_FLOAT16) {
        for (size_t b = 0; b < n; b++) {
            const uint16_t h = half_of(bits_of(scale[b]));
            store16(out + 2 * b, h);
            stored[b] = float_of(float_of_half(h));
        }
    } else if (scale_type == OE_SCALE_BFLOAT16) {
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

/* Codes of one block: `count` values, then zeros up to `block` (the padding past K). Clamped
   before rounding (the same result as after, and a NaN becomes 0, not undefined). */
static inline __attribute__((always_inline)) void quantize_block(
    const unsigned char *x, size_t count, size_t block, int bits, float reciprocal, float zero, uint8_t *out) {
    const float top = (float)((1 << bits) - 1);
    uint8_t q[MAX_BLOCK];
    size_t i = 0;
    for (; i < count; i++) {
        float y = float_of(load32(x + 4 * i)) * reciprocal + zero;
        y = y > 0.0f ? y : 0.0f;
        y = y < top ? y : top;
        q[i] = round_half_away(y);
    }
    for (; i < block; i++) {
        float y = 0.0f * reciprocal + zero;
        y = y > 0.0f ? y : 0.0f;
        y = y < top ? y : top;
        q[i] = round_half_away(y);
    }
    if (bits == 4) {
        for (size_t p = 0; p < block / 2; p++) out[p] = (uint8_t)(q[2 * p] | (q[2 * p + 1] << 4));
    } else {
        memcpy(out, q, block);
    }
}

static inline __attribute__((always_inline)) void quantize_row(
    const unsigned char *row, size_t k, size_t block, int bits, int symmetric, int scale_type,
    uint8_t *packed, unsigned char *scales, uint8_t *zero_points) {
    const size_t blocks = (k + block - 1) / block;
    const size_t blob = block * (size_t)bits / 8;
    const size_t scale_width = scale_type == OE_SCALE_FLOAT32 ? 4 : 2;
    float lo[GROUP], hi[GROUP], scale[GROUP], zero[GROUP], reciprocal[GROUP];
    for (size_t first = 0; first < blocks; first += GROUP) {
        const size_t n = blocks - first < GROUP ? blocks - first : GROUP;
        for (size_t b = 0; b < n; b++) {
            const size_t start = (first + b) * block;
            extremes(row + 4 * start, k - start < block ? k - start : block, &lo[b], &hi[b]);
        }
        block_parameters(lo, hi, n, bits, symmetric, scale, zero);
        store_scales(scale, n, scale_type, scales + first * scale_width, reciprocal);
        if (!symmetric) {
            for (size_t b = 0; b < n; b++) {
                const size_t j = first + b;
                const uint8_t z = (uint8_t)zero[b];
                if (bits == 8) {
                    zero_points[j] = z;
                } else {
                    /* Low nibble first; an odd block count leaves the last high nibble at 8, as
                       onnxruntime writes it. */
                    uint8_t *byte = zero_points + j / 2;
                    *byte = (j % 2 == 0) ? (uint8_t)(0x80 | z) : (uint8_t)((*byte & 0x0f) | (z << 4));
                }
            }
        }
        if (!packed) continue;
        for (size_t b = 0; b < n; b++) {
            const size_t start = (first + b) * block;
            quantize_block(row + 4 * start, k - start < block ? k - start : block, block, bits, reciprocal[b], zero[b],
                           packed + (first + b) * blob);
        }
    }
}

OE_VECTOR_CLONES
void oe_quantize_blocks(const void *src, size_t rows, size_t k, size_t block, int bits, int symmetric,
                        int scale_type, uint8_t *packed, void *scales, uint8_t *zero_points) {
    if (block == 0 || block > MAX_BLOCK || (bits != 4 && bits != 8)) return;
    const size_t blocks = (k + block - 1) / block;
    const size_t blob = block * (size_t)bits / 8;
    const size_t scale_width = scale_type == OE_SCALE_FLOAT32 ? 4 : 2;
    const size_t zero_width = (blocks * (size_t)bits + 7) / 8;
    const unsigned char *s = src;
    unsigned char *scale_bytes = scales;
    for (size_t r = 0; r < rows; r++) {
        quantize_row(s + 4 * k * r, k, block, bits, symmetric, scale_type,
                     packed ? packed + r * blocks * blob : NULL, scale_bytes + r * blocks * scale_width,
                     symmetric ? NULL : zero_points + r * zero_width);
    }
}

/* Columns the column kernel takes at a time: their statistics and parameters stay in L1 while the
   block's rows are read, each row as one contiguous piece (walking down single columns missed the
   TLB on every row of a wide matrix), and the output rows they scatter codes to stay few enough
   for L1 too (128 measured fastest among 64 to 1024 on a [1280, 5120] matrix). */
#define COLUMNS 128

/* Blocks of `width` <= COLUMNS consecutive columns of a row-major [k, stride] matrix: the same
   statistics, parameters and codes as quantize_row computes for the rows of the transposed matrix,
   vectorised across the columns instead of along them. */
static inline __attribute__((always_inline)) void quantize_column_group(
    const unsigned char *src, size_t stride, size_t k, size_t width, size_t block, int bits, int symmetric,
    int scale_type, uint8_t *packed, unsigned char *scales, uint8_t *zero_points) {
    const size_t blocks = (k + block - 1) / block;
    const size_t blob = block * (size_t)bits / 8;
    const size_t scale_width = scale_type == OE_SCALE_FLOAT32 ? 4 : 2;
    const size_t zero_width = (blocks * (size_t)bits + 7) / 8;
    const float top = (float)((1 << bits) - 1);
    float lo[COLUMNS], hi[COLUMNS], scale[COLUMNS], zero[COLUMNS], reciprocal[COLUMNS];
    unsigned char stored[COLUMNS * 4];
    uint8_t codes[COLUMNS], previous[COLUMNS];
    for (size_t j = 0; j < blocks; j++) {
        const size_t start = j * block;
        const size_t count = k - start < block ? k - start : block;
        for (size_t c = 0; c < width; c++) { lo[c] = 3.40282347e+38f; hi[c] = -3.40282347e+38f; }
        for (size_t i = 0; i < count; i++) {
            const unsigned char *row = src + 4 * (start + i) * stride;
            for (size_t c = 0; c < width; c++) {
                const float v = float_of(load32(row + 4 * c));
                lo[c] = v < lo[c] ? v : lo[c];
                hi[c] = v > hi[c] ? v : hi[c];
            }
        }
        for (size_t c = 0; c < width; c++) { lo[c] = lo[c] + 0.0f; hi[c] = hi[c] + 0.0f; }
        for (size_t first = 0; first < width; first += GROUP) {
            const size_t n = width - first < GROUP ? width - first : GROUP;
            block_parameters(lo + first, hi + first, n, bits, symmetric, scale + first, zero + first);
            store_scales(scale + first, n, scale_type, stored + first * scale_width, reciprocal + first);
        }
        for (size_t c = 0; c < width; c++) {
            memcpy(scales + (c * blocks + j) * scale_width, stored + c * scale_width, scale_width);
            if (symmetric) continue;
            const uint8_t z = (uint8_t)zero[c];
            uint8_t *zeros = zero_points + c * zero_width;
            if (bits == 8) zeros[j] = z;
            else zeros[j / 2] = (j % 2 == 0) ? (uint8_t)(0x80 | z) : (uint8_t)((zeros[j / 2] & 0x0f) | (z << 4));
        }
        if (!packed) continue;
        for (size_t i = 0; i < block; i++) {
            const unsigned char *row = src + 4 * (start + i) * stride;
            if (i < count) {
                for (size_t c = 0; c < width; c++) {
                    float y = float_of(load32(row + 4 * c)) * reciprocal[c] + zero[c];
                    y = y > 0.0f ? y : 0.0f;
                    y = y < top ? y : top;
                    codes[c] = round_half_away(y);
                }
            } else {
                /* Padding past K: zeros, quantized like any other value. */
                for (size_t c = 0; c < width; c++) {
                    float y = 0.0f * reciprocal[c] + zero[c];
                    y = y > 0.0f ? y : 0.0f;
                    y = y < top ? y : top;
                    codes[c] = round_half_away(y);
                }
            }
            uint8_t *out = packed + j * blob + (bits == 8 ? i : i / 2);
            const size_t row_bytes = blocks * blob;
            if (bits == 8) {
                for (size_t c = 0; c < width; c++) out[c * row_bytes] = codes[c];
            } else if (i % 2 == 1) {
                for (size_t c = 0; c < width; c++) out[c * row_bytes] = (uint8_t)(previous[c] | (codes[c] << 4));
            } else {
                memcpy(previous, codes, width);
            }
        }
    }
}

OE_VECTOR_CLONES
void oe_quantize_block_columns(const void *src, size_t stride, size_t k, size_t columns, size_t block, int bits,
                               int symmetric, int scale_type, uint8_t *packed, void *scales, uint8_t *zero_points) {
    if (block == 0 || block > MAX_BLOCK || (bits != 4 && bits != 8)) return;
    const size_t blocks = (k + block - 1) / block;
    const size_t blob = block * (size_t)bits / 8;
    const size_t scale_width = scale_type == OE_SCALE_FLOAT32 ? 4 : 2;
    const size_t zero_width = (blocks * (size_t)bits + 7) / 8;
    const unsigned char *s = src;
    unsigned char *scale_bytes = scales;
    for (size_t c = 0; c < columns; c += COLUMNS) {
        const size_t width = columns - c < COLUMNS ? columns - c : COLUMNS;
        quantize_column_group(s + 4 * c, stride, k, width, block, bits, symmetric, scale_type,
                              packed ? packed + c * blocks * blob : NULL, scale_bytes + c * blocks * scale_width,
                              symmetric ? NULL : zero_points + c * zero_width);
    }
}
