/* BLAKE3, default hash mode with a 32-byte output, written from the
 * specification: portable C one chunk at a time, plus kernels that hash 8
 * (AVX2) or 16 (AVX-512) whole chunks at once (blake3_lanes.h).
 *
 * 1. The tree is never stored.  Each finished 1024-byte chunk
 * pushes its chaining value onto a stack, and the number of trailing zero bits
 * of the chunk count says how many pairs to merge into parents right away
 * (the "merge by counter" rule).  Finalising folds whatever is left on the
 * stack from the right, with the ROOT flag on the last compression only.
 * 2. Long inputs go through a wide kernel: when the current chunk is empty
 *    and more than LANES whole chunks of input are at hand, LANES chunks are
 *    compressed side by side, one per vector lane, and their chaining values
 *    enter the stack in order exactly as the one-chunk path would push them.
 *    "More than": the input's last chunk always takes the one-chunk path, so
 *    the chunk that may be the root is never hashed by a kernel.  The digest
 *    is the same whichever kernel runs (test_blake3 checks every level
 *    against b3sum).  The kernel is picked once from the CPU;
 *    ae_blake3_force_lanes caps it.  Fragments are written and verified
 *    through this hash, so its speed is ingest speed (docs/BENCHMARKS.md). */
#include "util/blake3.h"
#include "util/bytes.h"

#include <stdatomic.h>
#include <string.h>

enum {
    CHUNK_LEN = 1024,
    BLOCK_LEN = 64,
    CHUNK_START = 1u << 0,
    CHUNK_END = 1u << 1,
    PARENT = 1u << 2,
    ROOT = 1u << 3,
};

static const uint32_t IV[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                               0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

/* The message permutation applied before each round, composed ahead of time:
 * row r is the word order of round r (row r+1 = row r permuted by
 * 2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8). */
static const uint8_t MSG_SCHEDULE[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

#if defined(__x86_64__) && defined(__GNUC__)
#define B3_WIDE   1
#define B3_LANES  8
#define B3_NAME   hash_chunks8_avx2
#define B3_TARGET "avx2"
#include "util/blake3_lanes.h"
#define B3_LANES  16
#define B3_NAME   hash_chunks16_avx512
#define B3_TARGET "avx512f"
#include "util/blake3_lanes.h"
#else
#define B3_WIDE 0
#endif

/* 0: not yet detected; else the widest kernel allowed (1, 8 or 16 lanes). */
static _Atomic int lanes_cap;

static int detect_lanes(void)
{
#if B3_WIDE
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2")) return 8;
#endif
    return 1;
}

int ae_blake3_lanes(void)
{
    int l = atomic_load_explicit(&lanes_cap, memory_order_relaxed);
    if (l) return l;
    l = detect_lanes();
    atomic_store_explicit(&lanes_cap, l, memory_order_relaxed);
    return l;
}

int ae_blake3_force_lanes(int max)
{
    int l = detect_lanes();
    if (max > 0 && max < 8) l = 1;
    if (max >= 8 && max < 16 && l > 8) l = 8;
    atomic_store_explicit(&lanes_cap, l, memory_order_relaxed);
    return l;
}

static uint32_t rotr32(uint32_t w, unsigned c)
{
    return (w >> c) | (w << (32 - c));
}

static inline void g(uint32_t s[16], int a, int b, int c, int d, uint32_t mx, uint32_t my)
{
    s[a] = s[a] + s[b] + mx;
    s[d] = rotr32(s[d] ^ s[a], 16);
    s[c] = s[c] + s[d];
    s[b] = rotr32(s[b] ^ s[c], 12);
    s[a] = s[a] + s[b] + my;
    s[d] = rotr32(s[d] ^ s[a], 8);
    s[c] = s[c] + s[d];
    s[b] = rotr32(s[b] ^ s[c], 7);
}

static inline void round_fn(uint32_t s[16], const uint32_t m[16], const uint8_t *sc)
{
    g(s, 0, 4, 8, 12, m[sc[0]], m[sc[1]]); /* columns */
    g(s, 1, 5, 9, 13, m[sc[2]], m[sc[3]]);
    g(s, 2, 6, 10, 14, m[sc[4]], m[sc[5]]);
    g(s, 3, 7, 11, 15, m[sc[6]], m[sc[7]]);
    g(s, 0, 5, 10, 15, m[sc[8]], m[sc[9]]); /* diagonals */
    g(s, 1, 6, 11, 12, m[sc[10]], m[sc[11]]);
    g(s, 2, 7, 8, 13, m[sc[12]], m[sc[13]]);
    g(s, 3, 4, 9, 14, m[sc[14]], m[sc[15]]);
}

/* The compression function; writes the 8-word truncated output (all a 32-byte
 * hash ever needs: state[i] ^ state[i + 8]). */
static void compress(const uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint64_t counter,
                     uint32_t block_len, uint32_t flags, uint32_t out[8])
{
    uint32_t m[16], s[16];
    for (int i = 0; i < 16; i++)
        m[i] = ae_get_le32(block + 4 * i);
    for (int i = 0; i < 8; i++)
        s[i] = cv[i];
    for (int i = 0; i < 4; i++)
        s[8 + i] = IV[i];
    s[12] = (uint32_t)counter;
    s[13] = (uint32_t)(counter >> 32);
    s[14] = block_len;
    s[15] = flags;
    /* Spelled out so the compiler sees constant schedule indices. */
    round_fn(s, m, MSG_SCHEDULE[0]);
    round_fn(s, m, MSG_SCHEDULE[1]);
    round_fn(s, m, MSG_SCHEDULE[2]);
    round_fn(s, m, MSG_SCHEDULE[3]);
    round_fn(s, m, MSG_SCHEDULE[4]);
    round_fn(s, m, MSG_SCHEDULE[5]);
    round_fn(s, m, MSG_SCHEDULE[6]);
    for (int i = 0; i < 8; i++)
        out[i] = s[i] ^ s[i + 8];
}

/* The inputs of a not-yet-performed compression: either the last block of the
 * current chunk or a parent node.  Kept so the ROOT flag can be added last. */
typedef struct output {
    uint32_t cv[8];
    uint8_t block[BLOCK_LEN];
    uint64_t counter;
    uint32_t block_len;
    uint32_t flags;
} output;

static void output_cv(const output *o, uint32_t out[8])
{
    compress(o->cv, o->block, o->counter, o->block_len, o->flags, out);
}

static void parent_output(const uint32_t left[8], const uint32_t right[8], const uint32_t key[8],
                          uint32_t flags, output *o)
{
    memcpy(o->cv, key, sizeof o->cv);
    for (int i = 0; i < 8; i++) {
        ae_put_le32(o->block + 4 * i, left[i]);
        ae_put_le32(o->block + 32 + 4 * i, right[i]);
    }
    o->counter = 0;
    o->block_len = BLOCK_LEN;
    o->flags = flags | PARENT;
}

static uint32_t chunk_start_flag(const ae_blake3 *h)
{
    return h->blocks_compressed == 0 ? CHUNK_START : 0;
}

static size_t chunk_len(const ae_blake3 *h)
{
    return (size_t)h->blocks_compressed * BLOCK_LEN + h->block_len;
}

static void chunk_output(const ae_blake3 *h, output *o)
{
    memcpy(o->cv, h->chunk_cv, sizeof o->cv);
    memset(o->block, 0, sizeof o->block);
    memcpy(o->block, h->block, h->block_len);
    o->counter = h->chunk_counter;
    o->block_len = h->block_len;
    o->flags = h->flags | chunk_start_flag(h) | CHUNK_END;
}

static void chunk_reset(ae_blake3 *h, uint64_t counter)
{
    memcpy(h->chunk_cv, h->key, sizeof h->chunk_cv);
    h->chunk_counter = counter;
    memset(h->block, 0, sizeof h->block);
    h->block_len = 0;
    h->blocks_compressed = 0;
}

static void chunk_update(ae_blake3 *h, const uint8_t *in, size_t len)
{
    while (len > 0) {
        /* A full buffered block is compressed only once more input arrives:
         * the chunk's last block must wait for the CHUNK_END flag. */
        if (h->block_len == BLOCK_LEN) {
            uint32_t cv[8];
            compress(h->chunk_cv, h->block, h->chunk_counter, BLOCK_LEN,
                     h->flags | chunk_start_flag(h), cv);
            memcpy(h->chunk_cv, cv, sizeof cv);
            h->blocks_compressed++;
            memset(h->block, 0, sizeof h->block);
            h->block_len = 0;
        }
        size_t take = BLOCK_LEN - (size_t)h->block_len;
        if (take > len) take = len;
        memcpy(h->block + h->block_len, in, take);
        h->block_len = (uint8_t)(h->block_len + take);
        in += take;
        len -= take;
    }
}

static void push_cv(ae_blake3 *h, const uint32_t cv[8])
{
    memcpy(h->cv_stack + 8 * (size_t)h->cv_stack_len, cv, 8 * sizeof(uint32_t));
    h->cv_stack_len++;
}

/* Merges completed subtrees: after total_chunks chunks, every trailing zero
 * bit of the count is one pair of equal-sized subtrees to join. */
static void add_chunk_cv(ae_blake3 *h, uint32_t cv[8], uint64_t total_chunks)
{
    while ((total_chunks & 1) == 0) {
        output o;
        h->cv_stack_len--;
        parent_output(h->cv_stack + 8 * (size_t)h->cv_stack_len, cv, h->key, h->flags, &o);
        output_cv(&o, cv);
        total_chunks >>= 1;
    }
    push_cv(h, cv);
}

void ae_blake3_init(ae_blake3 *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->key, IV, sizeof h->key);
    h->flags = 0;
    chunk_reset(h, 0);
}

/* Note 2: n whole chunks (n = lanes) hashed by a wide kernel, pushed in order. */
static void wide_chunks(ae_blake3 *h, const uint8_t *in, int n)
{
    uint32_t cvs[16][8];
#if B3_WIDE
    if (n == 16)
        hash_chunks16_avx512(in, h->key, h->chunk_counter, h->flags, cvs);
    else
        hash_chunks8_avx2(in, h->key, h->chunk_counter, h->flags, cvs);
#else
    (void)in;
#endif
    uint64_t first = h->chunk_counter;
    for (int i = 0; i < n; i++)
        add_chunk_cv(h, cvs[i], first + (uint64_t)i + 1);
    chunk_reset(h, first + (uint64_t)n);
}

void ae_blake3_update(ae_blake3 *h, const void *data, size_t len)
{
    const uint8_t *in = data;
    int lanes = ae_blake3_lanes();
    while (len > 0) {
        /* Like a block, a full chunk is finished only when more input comes,
         * since the last chunk may turn out to be the root. */
        if (chunk_len(h) == CHUNK_LEN) {
            output o;
            uint32_t cv[8];
            chunk_output(h, &o);
            output_cv(&o, cv);
            uint64_t total = h->chunk_counter + 1;
            add_chunk_cv(h, cv, total);
            chunk_reset(h, total);
        }
        if (lanes > 1 && chunk_len(h) == 0 && len > (size_t)lanes * CHUNK_LEN) {
            wide_chunks(h, in, lanes);
            in += (size_t)lanes * CHUNK_LEN;
            len -= (size_t)lanes * CHUNK_LEN;
            continue;
        }
        size_t take = CHUNK_LEN - chunk_len(h);
        if (take > len) take = len;
        chunk_update(h, in, take);
        in += take;
        len -= take;
    }
}

void ae_blake3_final(const ae_blake3 *h, uint8_t out[AE_BLAKE3_OUT_LEN])
{
    output o;
    uint32_t words[8];
    chunk_output(h, &o);
    for (size_t i = h->cv_stack_len; i > 0; i--) {
        uint32_t right[8];
        output_cv(&o, right);
        parent_output(h->cv_stack + 8 * (i - 1), right, h->key, h->flags, &o);
    }
    compress(o.cv, o.block, 0, o.block_len, o.flags | ROOT, words);
    for (int i = 0; i < 8; i++)
        ae_put_le32(out + 4 * i, words[i]);
}

void blake3_hex(const void *data, size_t len, char out[AE_BLAKE3_HEX_LEN + 1])
{
    ae_blake3 h;
    uint8_t d[AE_BLAKE3_OUT_LEN];
    ae_blake3_init(&h);
    ae_blake3_update(&h, data, len);
    ae_blake3_final(&h, d);
    ae_hex_encode(d, sizeof d, out);
}
