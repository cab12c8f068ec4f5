/* libFuzzer target for the IVF-PQ index file: the bytes become a file, which
 * is opened, verified and searched against a synthetic source.  Any crash,
 * sanitizer report or leak is a bug; error returns are fine.  Fuzzing builds
 * (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) skip the header checksum so the
 * structural checks behind it are reached.
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Iinclude -Isrc \
 *     tests/fuzz/fuzz_ivfpq_file.c src/index/{kmeans,pq,build,format,search,verify,distance}.c \
 *     src/util/{blake3,err,mem,fs}.c $(pkg-config --cflags --libs openblas) -lm -lpthread \
 *     -o /tmp/fuzz_ivfpq_file
 *   /tmp/fuzz_ivfpq_file -max_total_time=60 /tmp/corpus tests/fuzz/corpus/ivfpq */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/ivfpq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static float row_buf[AE_MAX_DIM];

static const float *fz_row(void *ctx, size_t i)
{
    (void)ctx;
    row_buf[i % 7] = (float)(i % 5) - 2.0f; /* rows differ a little */
    return row_buf;
}

static float fz_inv(void *ctx, size_t i)
{
    (void)ctx;
    return 1.0f / (float)(1 + i % 3);
}

static bool fz_live(void *ctx, size_t row)
{
    (void)ctx;
    return row % 4 != 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_ivfpq.%d.idx", (int)getpid());
        for (size_t j = 0; j < AE_MAX_DIM; j++)
            row_buf[j] = (float)(j % 3) * 0.25f;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    if (size && fwrite(data, 1, size, fp) != size) {
        fclose(fp);
        return 0;
    }
    fclose(fp);
    ae_ivfpq *ix = NULL;
    ae_error err;
    if (ae_ivfpq_open(path, &ix, &err) == 0) {
        (void)ae_ivfpq_fsck(ix, &err);
        uint32_t dim = ae_ivfpq_dim(ix);
        ae_vec_source src = {
            ae_ivfpq_rows_covered(ix) + 3, dim, fz_row, fz_inv, NULL, NULL, NULL, NULL};
        float *q = calloc(dim, sizeof *q);
        if (q) {
            for (uint32_t j = 0; j < dim; j++)
                q[j] = (float)((j * 7) % 11) - 5.0f;
            q[0] = 1.0f;
            ae_ivfpq_hit hits[8];
            size_t nh;
            (void)ae_ivfpq_search(ix, &src, q, 8, 3, 2, NULL, NULL, hits, &nh, &err);
            (void)ae_ivfpq_search(ix, &src, q, 3, 1000, 1, fz_live, NULL, hits, &nh, &err);
            free(q);
        }
        ae_ivfpq_close(ix);
    }
    unlink(path);
    return 0;
}
