/* Interop writer: writes a data fragment with known contents and, beside it,
 * what an Arrow reader must find in it:
 *   write_fragment OUT N DIM
 *     OUT            the fragment (Arrow IPC file)
 *     OUT.want.json  {"rows","dim","format_version","columns","list_size","ids",...}
 *                    in the exact bytes read_fragment.mjs prints
 *     OUT.want.f32   the embeddings, n*dim little-endian float32
 * It also reopens the fragment through the library and verifies it.
 * Exit 0 on success, 1 on a library error, 2 on bad usage. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "vectors/fragment.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t next32(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Values an exact copy must preserve bit for bit: random bit patterns
 * (finite only), negative zero, subnormals, extremes. */
static float value(size_t i, uint32_t d)
{
    static const float specials[] = {-0.0f, 1.4e-45f, -3.4028235e38f, 1.17549435e-38f, 1.0f / 3};
    if ((i * 31 + d) % 17 == 0 && d > 0) return specials[(i + d) % 5];
    for (;;) {
        uint32_t bits = next32();
        bits = (bits & 0x807FFFFFu) | ((100u + (bits >> 24) % 50u) << 23); /* |x| in 2^-27..2^22 */
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isfinite(f)) return f;
    }
}

static void print_list(FILE *fp, const char *key, char **items, size_t n)
{
    fprintf(fp, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s\"%s\"", i ? "," : "", items[i]);
    fputc(']', fp);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: write_fragment OUT N DIM\n");
        return 2;
    }
    const char *out = argv[1];
    size_t n = (size_t)strtoull(argv[2], NULL, 10);
    uint32_t dim = (uint32_t)strtoul(argv[3], NULL, 10);
    char **ids = calloc(n + 1, sizeof *ids), **hashes = calloc(n + 1, sizeof *hashes);
    char **providers = calloc(n + 1, sizeof *providers), **models = calloc(n + 1, sizeof *models);
    char **stamps = calloc(n + 1, sizeof *stamps);
    float *emb = calloc(n * dim + 1, sizeof *emb);
    int64_t *ts = calloc(n + 1, sizeof *ts);
    if (!ids || !hashes || !providers || !models || !stamps || !emb || !ts) return 1;
    for (size_t i = 0; i < n; i++) {
        ids[i] = ae_asprintf("sym-%zu-%zu-%0*u", n, i, (int)(i % 40), next32() % 1000);
        hashes[i] = ae_asprintf("%016llx%016llx", (unsigned long long)rng, (unsigned long long)i);
        providers[i] = ae_strdup(i % 3 ? "mock" : "");
        models[i] = ae_strdup(i % 2 ? "mini-\xc3\xa9\xe2\x9c\x93" : "m");
        ts[i] = (int64_t)1700000000000LL + (int64_t)i * 977 - (i % 5 ? 0 : 3000000000000LL);
        stamps[i] = ae_asprintf("%lld", (long long)ts[i]);
        for (uint32_t d = 0; d < dim; d++)
            emb[i * dim + d] = value(i, d);
        emb[i * dim] = 1.0f + (float)i; /* keeps every norm well inside float range */
    }
    ae_fragment_rows rows = {n,
                             dim,
                             (const char *const *)ids,
                             (const char *const *)hashes,
                             (const char *const *)providers,
                             (const char *const *)models,
                             emb,
                             ts,
                             NULL};
    ae_error err = {0};
    uint8_t sum[AE_FRAGMENT_CHECKSUM_LEN];
    if (ae_fragment_write(out, &rows, NULL, sum, &err) < 0) {
        fprintf(stderr, "write_fragment: %s\n", err.message);
        return 1;
    }
    ae_fragment *f = NULL;
    if (ae_fragment_open(out, &f, &err) < 0 || ae_fragment_verify(f, sum, &err) < 0) {
        fprintf(stderr, "write_fragment: reopen: %s\n", err.message);
        return 1;
    }
    ae_fragment_close(f);

    char *path = ae_asprintf("%s.want.json", out);
    FILE *fp = fopen(path, "w");
    if (!fp) return 1;
    fprintf(fp, "{\"rows\":%zu,\"dim\":%u,\"format_version\":\"1\",\"columns\":[", n, dim);
    fprintf(fp, "\"symbol_id:Utf8\",\"sir_hash:Utf8\",\"provider:Utf8\",\"model:Utf8\",");
    fprintf(fp, "\"embedding:FixedSizeList[%u]<Float32>\",\"updated_at:Int64\",", dim);
    fprintf(fp, "\"_inv_norm:Float32\"]");
    print_list(fp, "ids", ids, n);
    print_list(fp, "sir_hashes", hashes, n);
    print_list(fp, "providers", providers, n);
    print_list(fp, "models", models, n);
    print_list(fp, "updated_at", stamps, n);
    fprintf(fp, "}\n");
    fclose(fp);
    free(path);
    path = ae_asprintf("%s.want.f32", out);
    fp = fopen(path, "wb");
    if (!fp || fwrite(emb, sizeof *emb, n * dim, fp) != n * dim) return 1;
    fclose(fp);
    free(path);
    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
        free(hashes[i]);
        free(providers[i]);
        free(models[i]);
        free(stamps[i]);
    }
    free(ids);
    free(hashes);
    free(providers);
    free(models);
    free(stamps);
    free(emb);
    free(ts);
    return 0;
}
