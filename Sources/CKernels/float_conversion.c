#include "kernels.h"
#include "kernel_support.h"

/* Every conversion is written on the bits with selects instead of branches (kernel_support.h), so
   each loop becomes vector code. Converting a 3 GB checkpoint one element at a time through
   branches made float16 exports CPU-bound at about 1.5 GB/s. */

/* One loop per conversion, element by element through the helpers of kernel_support.h. */
#define OE_CONVERSION(name, in_width, load, convert, out_width, store)      \
    OE_VECTOR_CLONES                                                        \
    void name(const void *src, void *dst, size_t count) {                   \
        const unsigned char *s = src;                                       \
        unsigned char *d = dst;                                             \
        for (size_t i = 0; i < count; i++)                                  \
            store(d + (out_width) * i, convert(load(s + (in_width) * i)));  \
    }

OE_CONVERSION(oe_float32_to_float16, 4, load32, half_of, 2, store16)
OE_CONVERSION(oe_float32_to_bfloat16, 4, load32, bfloat16_of, 2, store16)
OE_CONVERSION(oe_float16_to_float32, 2, load16, float_of_half, 4, store32)
OE_CONVERSION(oe_bfloat16_to_float32, 2, load16, float_of_bfloat16, 4, store32)
