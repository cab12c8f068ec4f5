/* libFuzzer target for the fragment reader: the bytes become a file, which is
 * opened, read row by row as a scan would, verified and closed.  Any crash,
 * sanitizer report or leak is a bug; error returns are fine.
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iinclude -Isrc tests/fuzz/fuzz_fragment.c src/vectors/{fragment,arrow_ipc,flatbuf}.c \
 *     src/util/{blake3,err,mem}.c -lm -o /tmp/fuzz_fragment
 *   /tmp/fuzz_fragment -max_total_time=60 /tmp/corpus tests/fuzz/corpus/fragment */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vectors/fragment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_fragment.%d.arrow", (int)getpid());
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    if (size && fwrite(data, 1, size, fp) != size) {
        fclose(fp);
        return 0;
    }
    fclose(fp);
    ae_fragment *f = NULL;
    ae_error err;
    if (ae_fragment_open(path, &f, &err) == 0) {
        volatile uint64_t sink = 0;
        size_t n = ae_fragment_nrows(f);
        uint32_t dim = ae_fragment_dim(f);
        const float *v = ae_fragment_vectors(f), *inv = ae_fragment_inv_norms(f);
        for (size_t i = 0; i < n; i++) {
            const char *s;
            size_t len;
            if (ae_fragment_symbol_id(f, i, &s, &len) == 0 && len) sink += (uint8_t)s[len - 1];
            if (ae_fragment_sir_hash(f, i, &s, &len) == 0 && len) sink += (uint8_t)s[0];
            if (ae_fragment_provider(f, i, &s, &len) == 0 && len) sink += (uint8_t)s[0];
            if (ae_fragment_model(f, i, &s, &len) == 0 && len) sink += (uint8_t)s[len - 1];
            sink += (uint64_t)ae_fragment_updated_at(f, i);
            sink += (uint64_t)(v[i * dim] != 0) + (uint64_t)(v[i * dim + dim - 1] != 0);
            sink += (uint64_t)(inv[i] != 0);
        }
        (void)ae_fragment_verify(f, NULL, &err);
        ae_fragment_close(f);
        (void)sink;
    }
    return 0;
}
