/* One BLAKE3 kernel that hashes B3_LANES whole chunks side by side, one chunk
 * per 32-bit lane of a GCC vector (the reference implementation's "hash_many"
 * idea, written with vector extensions instead of intrinsics).  blake3.c
 * includes this file once per instruction set, after defining:
 *
 *   B3_LANES   lanes (chunks per call): 8 for AVX2, 16 for AVX-512
 *   B3_NAME    the function's name
 *   B3_TARGET  the target attribute string ("avx2", "avx512f")
 *
 * The function compresses the 16 blocks of each chunk (CHUNK_START on the
 * first, CHUNK_END on the last, never ROOT: the caller only passes chunks
 * that are followed by more input) and writes each chunk's chaining value.
 * in holds B3_LANES consecutive chunks; chunk i has counter `counter + i`.
 * Everything stays inside the one function, so no vector crosses a call
 * boundary (no ABI dependence on the target). */

#define B3_VT         B3_CAT(b3v, B3_LANES)
#define B3_CAT(a, b)  B3_CAT2(a, b)
#define B3_CAT2(a, b) a##b

typedef uint32_t B3_VT __attribute__((vector_size(4 * B3_LANES)));

__attribute__((target(B3_TARGET))) static void B3_NAME(const uint8_t *in, const uint32_t key[8],
                                                       uint64_t counter, uint32_t flags,
                                                       uint32_t out[][8])
{
#define B3_ROT(x, c) (((x) >> (c)) | ((x) << (32 - (c))))
#define B3_G(a, b, c, d, x, y)                                                                     \
    do {                                                                                           \
        s[a] = s[a] + s[b] + (x);                                                                  \
        s[d] = B3_ROT(s[d] ^ s[a], 16);                                                            \
        s[c] = s[c] + s[d];                                                                        \
        s[b] = B3_ROT(s[b] ^ s[c], 12);                                                            \
        s[a] = s[a] + s[b] + (y);                                                                  \
        s[d] = B3_ROT(s[d] ^ s[a], 8);                                                             \
        s[c] = s[c] + s[d];                                                                        \
        s[b] = B3_ROT(s[b] ^ s[c], 7);                                                             \
    } while (0)
    B3_VT h[8], lo, hi;
    uint32_t tlo[B3_LANES], thi[B3_LANES];
    for (int i = 0; i < B3_LANES; i++) {
        tlo[i] = (uint32_t)(counter + (uint64_t)i);
        thi[i] = (uint32_t)((counter + (uint64_t)i) >> 32);
    }
    memcpy(&lo, tlo, sizeof lo);
    memcpy(&hi, thi, sizeof hi);
    for (int i = 0; i < 8; i++)
        h[i] = (B3_VT){0} + key[i];
    for (int b = 0; b < CHUNK_LEN / BLOCK_LEN; b++) {
        /* word j of block b of every chunk: a transpose through the stack */
        uint32_t w[16][B3_LANES] __attribute__((aligned(64)));
        for (int l = 0; l < B3_LANES; l++) {
            const uint8_t *p = in + (size_t)l * CHUNK_LEN + (size_t)b * BLOCK_LEN;
            for (int j = 0; j < 16; j++)
                memcpy(&w[j][l], p + 4 * j, 4); /* little-endian hosts only (blake3.c) */
        }
        B3_VT m[16], s[16];
        for (int j = 0; j < 16; j++)
            memcpy(&m[j], w[j], sizeof m[j]);
        uint32_t f =
            flags | (b == 0 ? CHUNK_START : 0) | (b == CHUNK_LEN / BLOCK_LEN - 1 ? CHUNK_END : 0);
        for (int i = 0; i < 8; i++)
            s[i] = h[i];
        for (int i = 0; i < 4; i++)
            s[8 + i] = (B3_VT){0} + IV[i];
        s[12] = lo;
        s[13] = hi;
        s[14] = (B3_VT){0} + (uint32_t)BLOCK_LEN;
        s[15] = (B3_VT){0} + f;
        for (int r = 0; r < 7; r++) {
            const uint8_t *sc = MSG_SCHEDULE[r];
            B3_G(0, 4, 8, 12, m[sc[0]], m[sc[1]]);
            B3_G(1, 5, 9, 13, m[sc[2]], m[sc[3]]);
            B3_G(2, 6, 10, 14, m[sc[4]], m[sc[5]]);
            B3_G(3, 7, 11, 15, m[sc[6]], m[sc[7]]);
            B3_G(0, 5, 10, 15, m[sc[8]], m[sc[9]]);
            B3_G(1, 6, 11, 12, m[sc[10]], m[sc[11]]);
            B3_G(2, 7, 8, 13, m[sc[12]], m[sc[13]]);
            B3_G(3, 4, 9, 14, m[sc[14]], m[sc[15]]);
        }
        for (int i = 0; i < 8; i++)
            h[i] = s[i] ^ s[i + 8];
    }
    for (int i = 0; i < 8; i++) {
        uint32_t t[B3_LANES];
        memcpy(t, &h[i], sizeof t);
        for (int l = 0; l < B3_LANES; l++)
            out[l][i] = t[l];
    }
#undef B3_G
#undef B3_ROT
}

#undef B3_VT
#undef B3_CAT
#undef B3_CAT2
#undef B3_LANES
#undef B3_NAME
#undef B3_TARGET
