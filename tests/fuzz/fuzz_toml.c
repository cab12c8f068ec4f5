/* libFuzzer target for the TOML subset parser and the config model on top.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     tests/fuzz/fuzz_toml.c src/config/toml.c src/config/config.c \
 *     src/util/err.c src/util/mem.c src/util/fs.c -o fuzz_toml
 *   ./fuzz_toml -max_total_time=60 tests/fuzz/corpus/toml
 *
 * Besides "no crash, no leak", it checks that failures carry AE_ECONFIG (or
 * AE_ENOMEM) and a "<fuzz>:LINE: " message, and that successful parses hold
 * well-formed values. */
#include "config/config.h"
#include "config/toml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void walk(const ae_toml_table *t, int depth)
{
    if (depth > 2 * AE_TOML_MAX_DEPTH + 2) abort();
    for (size_t i = 0; i < t->len; i++) {
        const ae_toml_value *v = &t->values[i];
        if (!t->keys[i] || v->line < 1) abort();
        if (ae_toml_get(t, t->keys[i]) == NULL) abort();
        if (v->type == AE_TOML_STRING && !v->u.str) abort();
        if (v->type == AE_TOML_TABLE) walk(v->u.table, depth + 1);
        if (v->type == AE_TOML_ARRAY)
            for (size_t j = 0; j < v->u.array.len; j++)
                if (v->u.array.items[j].line < v->line) abort();
    }
}

static void check_error(const ae_error *err, int rc)
{
    if (rc != AE_ECONFIG && rc != AE_ENOMEM) abort();
    if (err->code != rc) abort();
    if (strncmp(err->message, "<fuzz>:", 7) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ae_toml_table *t = NULL;
    ae_error err = {0};
    int rc = ae_toml_parse((const char *)data, size, "<fuzz>", &t, &err);
    if (rc == 0) {
        walk(t, 0);
        ae_toml_free(t);
    } else {
        if (t) abort();
        check_error(&err, rc);
    }

    ae_config c;
    ae_error cerr = {0};
    int crc = ae_config_parse("<fuzz>", (const char *)data, size, &c, &cerr);
    if (crc == 0) {
        if (rc != 0) abort(); /* the config accepts only what the parser accepts */
        if (c.embeddings.dim < 1 || c.embeddings.dim > AE_MAX_DIM) abort();
        if (c.embeddings.batch_size < 1 || c.embeddings.batch_size > 4096) abort();
        if (c.search.nprobe < 0 || c.search.refine_factor < 0) abort();
        if (!c.inference.provider || !c.embeddings.provider || !c.embeddings.vector_backend)
            abort();
        ae_config_free(&c);
    } else {
        check_error(&cerr, crc);
    }
    return 0;
}
