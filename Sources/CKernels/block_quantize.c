#include "block_parameters.h"

/* Block-wise round-to-nearest quantization for com.microsoft.MatMulNBits along the rows of a
   matrix (block_parameters.h has the arithmetic), so a weight quantized here and one quantized by
   onnxruntime's tools are the same bytes.

   Determinism: every block depends on its own elements alone, so splitting rows between threads
   or bands cannot change a byte. Within a block, min and max are kept per lane (element i in lane
   i mod 8) and merged in a fixed order: the compiler's vector code and the scalar fallback then
   compute the same thing on every machine. */

#define LANES 8

/* Element i of a row of `type`, as float32 (half precision widened exactly, where it is read:
   a separate widening pass cost a fifth of a bfloat16 LLaMA export). */
static inline __attribute__((always_inline)) float element(const unsigned char *x, size_t i, int type) {
    if (type == OE_TYPE_FLOAT16) return float_of(float_of_half(load16(x + 2 * i)));
    if (type == OE_TYPE_BFLOAT16) return float_of(float_of_bfloat16(load16(x + 2 * i)));
    return float_of(load32(x + 4 * i));
}

static inline size_t element_width(int type) { return type == OE_TYPE_FLOAT32 ? 4 : 2; }

/* The least and greatest of `count` elements (NaN ignored), lane by lane, the lanes merged as a
   tree in a fixed order. */
static inline __attribute__((always_inline)) void extremes(const unsigned char *x, int type, size_t count, float *lo, float *hi) {
    float low[LANES], high[LANES];
    for (int l = 0; l < LANES; l++) { low[l] = 3.40282347e+38f; high[l] = -3.40282347e+38f; }
    size_t i = 0;
    for (; i + LANES <= count; i += LANES) {
        for (int l = 0; l < LANES; l++) {
            const float v = element(x, i + l, type);
            low[l] = v < low[l] ? v : low[l];
            high[l] = v > high[l] ? v : high[l];
        }
    }
    for (; i < count; i++) {
        const float v = element(x, i, type);
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
       kernel (block_quantize_columns.c) merges in another order. */
    *lo = low[0] + 0.0f;
    *hi = high[0] + 0.0f;
}

/* Codes of one block: `count` values, then zeros up to `block` (the padding past K). Clamped
   before rounding (the same result as after, and a NaN becomes 0, not undefined). */
static inline __attribute__((always_inline)) void quantize_block(
    const unsigned char *x, int type, size_t count, size_t block, int bits, float reciprocal, float zero, uint8_t *out) {
    const float top = (float)((1 << bits) - 1);
    uint8_t q[MAX_BLOCK];
    size_t i = 0;
    for (; i < count; i++) {
        float y = element(x, i, type) * reciprocal + zero;
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
    const unsigned char *row, int type, size_t k, size_t block, int bits, int symmetric, int scale_type,
    struct row_layout layout, uint8_t *packed, unsigned char *scales, uint8_t *zero_points) {
    const size_t width = element_width(type);
    const size_t blocks = layout.blocks, blob = layout.blob, scale_width = layout.scale_width;
    float lo[GROUP], hi[GROUP], scale[GROUP], zero[GROUP], reciprocal[GROUP];
    for (size_t first = 0; first < blocks; first += GROUP) {
        const size_t n = blocks - first < GROUP ? blocks - first : GROUP;
        for (size_t b = 0; b < n; b++) {
            const size_t start = (first + b) * block;
            extremes(row + width * start, type, k - start < block ? k - start : block, &lo[b], &hi[b]);
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
            quantize_block(row + width * start, type, k - start < block ? k - start : block, block, bits, reciprocal[b],
                           zero[b], packed + (first + b) * blob);
        }
    }
}

/* One loop over the rows per source type, so each is compiled with its type known. */
#define QUANTIZE_ROWS(type)                                                                              \
    for (size_t r = 0; r < rows; r++)                                                                    \
        quantize_row(s + element_width(type) * k * r, type, k, block, bits, symmetric, scale_type, layout,  \
                     packed ? packed + r * layout.blocks * layout.blob : NULL,                              \
                     scale_bytes + r * layout.blocks * layout.scale_width,                                  \
                     symmetric ? NULL : zero_points + r * layout.zero_width)

OE_VECTOR_CLONES
void oe_quantize_blocks(const void *src, int source_type, size_t rows, size_t k, size_t block, int bits, int symmetric,
                        int scale_type, uint8_t *packed, void *scales, uint8_t *zero_points) {
    struct row_layout layout;
    if (!row_layout_of(k, block, bits, scale_type, &layout)) return;
    const unsigned char *s = src;
    unsigned char *scale_bytes = scales;
    switch (source_type) {
    case OE_TYPE_FLOAT16: QUANTIZE_ROWS(OE_TYPE_FLOAT16); break;
    case OE_TYPE_BFLOAT16: QUANTIZE_ROWS(OE_TYPE_BFLOAT16); break;
    default: QUANTIZE_ROWS(OE_TYPE_FLOAT32); break;
    }
}
