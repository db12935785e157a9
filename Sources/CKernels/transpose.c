#include "kernels.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The matrix is walked in 64 × 64 blocks (16 KB read, 16 KB written: both stay in L1), each
   block in 4 × 4 squares transposed in registers with SSE2 unpacks, so every load and store moves
   16 bytes. Swift's scalar 16 × 16 tiles ran at about 1 GB/s here, which made the transposes of a
   LLaMA export CPU-bound; edges and machines without SSE2 take the scalar loop. */
void oe_transpose32(const uint32_t *src, uint32_t *dst, size_t rows, size_t cols, size_t dst_stride) {
    const size_t block = 64;
    for (size_t r0 = 0; r0 < rows; r0 += block) {
        const size_t r1 = r0 + block < rows ? r0 + block : rows;
        for (size_t c0 = 0; c0 < cols; c0 += block) {
            const size_t c1 = c0 + block < cols ? c0 + block : cols;
            size_t r = r0;
#if defined(__SSE2__)
            for (; r + 4 <= r1; r += 4) {
                const uint32_t *row = src + r * cols;
                size_t c = c0;
                for (; c + 4 <= c1; c += 4) {
                    const __m128i a = _mm_loadu_si128((const __m128i *)(row + c));
                    const __m128i b = _mm_loadu_si128((const __m128i *)(row + cols + c));
                    const __m128i x = _mm_loadu_si128((const __m128i *)(row + 2 * cols + c));
                    const __m128i y = _mm_loadu_si128((const __m128i *)(row + 3 * cols + c));
                    const __m128i ab_low = _mm_unpacklo_epi32(a, b);   /* a0 b0 a1 b1 */
                    const __m128i xy_low = _mm_unpacklo_epi32(x, y);   /* x0 y0 x1 y1 */
                    const __m128i ab_high = _mm_unpackhi_epi32(a, b);  /* a2 b2 a3 b3 */
                    const __m128i xy_high = _mm_unpackhi_epi32(x, y);  /* x2 y2 x3 y3 */
                    uint32_t *out = dst + c * dst_stride + r;
                    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi64(ab_low, xy_low));
                    _mm_storeu_si128((__m128i *)(out + dst_stride), _mm_unpackhi_epi64(ab_low, xy_low));
                    _mm_storeu_si128((__m128i *)(out + 2 * dst_stride), _mm_unpacklo_epi64(ab_high, xy_high));
                    _mm_storeu_si128((__m128i *)(out + 3 * dst_stride), _mm_unpackhi_epi64(ab_high, xy_high));
                }
                for (; c < c1; c++) {
                    for (size_t k = 0; k < 4; k++) dst[c * dst_stride + r + k] = src[(r + k) * cols + c];
                }
            }
#endif
            for (; r < r1; r++) {
                for (size_t c = c0; c < c1; c++) dst[c * dst_stride + r] = src[r * cols + c];
            }
        }
    }
}
