#ifndef ONNX_EXPORT_KERNEL_SUPPORT_H
#define ONNX_EXPORT_KERNEL_SUPPORT_H
/* What the element-wise kernels share (a private header of CKernels): unaligned little-endian
   loads and stores, the float bit conversions, and the vector-clone attribute. Kept in one place
   so a float16 scale written by the quantizer and a float16 weight written by the converter can
   never round differently. */
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor bytes are little-endian; these kernels read them as host words"
#endif

/* Loops are written with selects instead of branches so the compiler turns them into vector code
   (8 lanes where AVX2 is there, chosen at load time through target_clones; 4 lanes of SSE2
   otherwise). */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define OE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef OE_VECTOR_CLONES
#define OE_VECTOR_CLONES
#endif

/* Loads and stores go through memcpy: tensor bytes in a read buffer carry no alignment promise. */
static inline uint32_t load32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t load16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline void store32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void store16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static inline float float_of(uint32_t bits) { float f; memcpy(&f, &bits, 4); return f; }
static inline uint32_t bits_of(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

/* binary32 → binary16, round to nearest even; finite values from 65520 up saturate at 65504
   (a narrowed "masked" float32 lowest must stay finite); infinities stay infinite, NaN stays NaN. */
static inline uint16_t half_of(uint32_t bits) {
    const uint32_t sign = (bits >> 16) & 0x8000u;
    const uint32_t magnitude = bits & 0x7fffffffu;
    /* Normal halves: rebias the exponent (-112 << 23) and round the 13 dropped bits to nearest
       even by adding 0xfff plus the lowest kept bit before shifting them out. */
    const uint32_t normal = (magnitude + 0xc8000fffu + ((magnitude >> 13) & 1u)) >> 13;
    /* Subnormal halves (below 2^-14): adding 0.5 leaves the value's units of 2^-24 in the low
       mantissa bits, rounded to nearest even by the float addition itself. */
    const uint32_t subnormal = bits_of(float_of(magnitude) + 0.5f) - 0x3f000000u;
    const uint32_t special = magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u;
    const uint32_t finite = magnitude >= 0x477ff000u ? 0x7bffu : (magnitude < 0x38800000u ? subnormal : normal);
    return (uint16_t)(sign | (magnitude >= 0x7f800000u ? special : finite));
}

/* binary32 → bfloat16, round to nearest even; finite values saturate as for halves; a NaN keeps
   its sign and top payload bits and is made quiet. */
static inline uint16_t bfloat16_of(uint32_t bits) {
    const uint32_t magnitude = bits & 0x7fffffffu;
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    const uint32_t saturated = ((bits >> 16) & 0x8000u) | 0x7f7fu;
    const uint32_t finite = (rounded & 0x7f80u) == 0x7f80u ? saturated : rounded;
    const uint32_t result = magnitude > 0x7f800000u ? ((bits >> 16) | 0x0040u)
                          : (magnitude == 0x7f800000u ? (bits >> 16) : finite);
    return (uint16_t)result;
}

/* binary16 → binary32, exact: subnormals through one float multiply, infinities and NaN kept. */
static inline uint32_t float_of_half(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    const uint32_t normal = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    const uint32_t special = sign | 0x7f800000u | (mantissa << 13);
    const uint32_t subnormal = sign | bits_of((float)mantissa * 0x1p-24f);
    return exponent == 0 ? subnormal : (exponent == 31 ? special : normal);
}

static inline uint32_t float_of_bfloat16(uint16_t b) { return (uint32_t)b << 16; }

#endif
