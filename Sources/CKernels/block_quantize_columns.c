#include "block_parameters.h"

/* The transpose of a stored row-major [k, stride] float32 matrix (GPT-2's Conv1D [in, out])
   quantized like block_quantize.c quantizes rows, without transposing it: the rows of the
   transpose are the stored matrix's columns, quantized a group of columns at a time. */

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
    int scale_type, struct row_layout layout, uint8_t *packed, unsigned char *scales, uint8_t *zero_points) {
    const size_t blocks = layout.blocks, blob = layout.blob, scale_width = layout.scale_width;
    const size_t zero_width = layout.zero_width;
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
    struct row_layout layout;
    if (!row_layout_of(k, block, bits, scale_type, &layout)) return;
    const unsigned char *s = src;
    unsigned char *scale_bytes = scales;
    for (size_t c = 0; c < columns; c += COLUMNS) {
        const size_t width = columns - c < COLUMNS ? columns - c : COLUMNS;
        quantize_column_group(s + 4 * c, stride, k, width, block, bits, symmetric, scale_type, layout,
                              packed ? packed + c * layout.blocks * layout.blob : NULL,
                              scale_bytes + c * layout.blocks * layout.scale_width,
                              symmetric ? NULL : zero_points + c * layout.zero_width);
    }
}
