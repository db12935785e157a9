#include "kernels.h"
#include <string.h>

/* CRC-32C with the CPU's own instruction: x86-64's SSE4.2 `crc32` computes exactly this
   polynomial (Castagnoli, reflected), 8 bytes per instruction. One dependent chain runs at about
   8 bytes per 3 cycles, several GB/s, where the slicing-by-8 tables in CRC32C.swift manage 1–2:
   TensorFlow checkpoints checksum every byte they hold, so the tables made reading a 3 GB
   checkpoint CPU-bound. Chosen at run time, so the binary still runs on CPUs without it. */

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p, size_t count) {
    uint64_t c = crc;
    for (; count >= 8; p += 8, count -= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
    }
    uint32_t c32 = (uint32_t)c;
    for (; count > 0; p++, count--) c32 = _mm_crc32_u8(c32, *p);
    return c32;
}
#endif

int oe_crc32c_hardware(uint32_t *crc, const void *data, size_t count) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        *crc = crc32c_sse42(*crc, (const unsigned char *)data, count);
        return 1;
    }
#endif
    (void)crc; (void)data; (void)count;
    return 0;
}
