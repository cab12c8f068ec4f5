/* JSONL import/export.  Notes:
 * 1. Each line is validated alone (the same checks as upsert), so one bad
 *    line never poisons its batch: it is reported with its line number.
 * 2. Floats are written with 9 significant digits, which round-trips float32
 *    exactly, so export -> import is lossless. */
#include "store/jsonl.h"

#include "vectors/vs_validate.h"
#include "util/err.h"
#include "util/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const string_keys[] = {"symbol_id", "sir_hash", "provider", "model"};

int ae_jsonl_parse_line(const char *line, size_t len, ae_vs_record *rec, void **owner, float **vec,
                        ae_error *err)
{
    *owner = NULL;
    *vec = NULL;
    memset(rec, 0, sizeof *rec);
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    AE_RETURN_IF(!o, err, AE_EINVAL, "invalid JSON at column %d: %s", je.column, je.text);
    int rc = 0;
    if (!json_is_object(o)) AE_FAIL(err, AE_EINVAL, "expected a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool known = !strcmp(key, "embedding") || !strcmp(key, "updated_at");
        for (size_t i = 0; i < 4; i++)
            known = known || !strcmp(key, string_keys[i]);
        if (!known) AE_FAIL(err, AE_EINVAL, "unknown key \"%s\"", key);
    }
    const char **dst[] = {&rec->symbol_id, &rec->sir_hash, &rec->provider, &rec->model};
    for (size_t i = 0; i < 4; i++) {
        v = json_object_get(o, string_keys[i]);
        if (!json_is_string(v)) AE_FAIL(err, AE_EINVAL, "\"%s\" must be a string", string_keys[i]);
        *dst[i] = json_string_value(v);
    }
    v = json_object_get(o, "updated_at");
    if (v && !json_is_integer(v)) AE_FAIL(err, AE_EINVAL, "\"updated_at\" must be an integer");
    rec->updated_at = v ? json_integer_value(v) : 0;
    json_t *emb = json_object_get(o, "embedding");
    if (!json_is_array(emb)) AE_FAIL(err, AE_EINVAL, "\"embedding\" must be an array of numbers");
    size_t dim = json_array_size(emb);
    if (dim == 0 || dim > AE_MAX_DIM)
        AE_FAIL(err, AE_EINVAL, "\"embedding\" has %zu values; accepted: 1..%d", dim, AE_MAX_DIM);
    *vec = malloc(dim * sizeof **vec);
    if (!*vec) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < dim; i++) {
        json_t *x = json_array_get(emb, i);
        if (!json_is_number(x)) AE_FAIL(err, AE_EINVAL, "embedding[%zu] is not a number", i);
        double d = json_number_value(x);
        float f = (float)d;
        if (!isfinite(f))
            AE_FAIL(err, AE_EINVAL, "embedding[%zu] = %g is not a finite float", i, d);
        (*vec)[i] = f;
    }
    rec->embedding = *vec;
    rec->dim = (uint32_t)dim;
    AE_CHECK(ae_vs_validate_records(rec, 1, err));
    *owner = o;
    return 0;
cleanup:
    json_decref(o);
    free(*vec);
    *vec = NULL;
    return rc;
}

void ae_jsonl_release(void *owner, float *vec)
{
    json_decref(owner);
    free(vec);
}

typedef struct batch {
    ae_vs_record recs[AE_JSONL_BATCH_ROWS];
    void *owners[AE_JSONL_BATCH_ROWS];
    float *vecs[AE_JSONL_BATCH_ROWS];
    size_t n;
} batch;

static void batch_release(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        ae_jsonl_release(b->owners[i], b->vecs[i]);
    b->n = 0;
}

static int batch_flush(ae_vector_store *vs, batch *b, ae_jsonl_batch_fn committed, void *ctx,
                       ae_jsonl_report *rep, ae_error *err)
{
    if (!b->n) return 0;
    int rc = ae_vs_upsert(vs, b->recs, b->n, err);
    if (rc == 0) rep->imported += b->n;
    if (rc == 0 && committed) rc = committed(ctx, b->recs, b->n, err);
    batch_release(b);
    return rc;
}

int ae_jsonl_import(ae_vector_store *vs, FILE *in, ae_jsonl_batch_fn committed, void *ctx,
                    ae_jsonl_report *rep, ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    batch *b = calloc(1, sizeof *b);
    if (!b) return ae_fail(err, AE_ENOMEM, "out of memory");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        rep->lines++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t skip = strspn(line, " \t");
        if ((size_t)len == skip) continue; /* blank lines are fine */
        ae_error lerr;
        if (ae_jsonl_parse_line(line, (size_t)len, &b->recs[b->n], &b->owners[b->n], &b->vecs[b->n],
                                &lerr) < 0) {
            if (rep->bad < AE_JSONL_BAD_LINES_KEPT) {
                ae_jsonl_bad_line *bl = &rep->bad_lines[rep->bad];
                bl->line = rep->lines;
                snprintf(bl->message, sizeof bl->message, "%.199s", lerr.message);
            }
            rep->bad++;
            continue;
        }
        if (++b->n == AE_JSONL_BATCH_ROWS) AE_CHECK(batch_flush(vs, b, committed, ctx, rep, err));
    }
    AE_CHECK(batch_flush(vs, b, committed, ctx, rep, err));
cleanup:
    batch_release(b);
    free(b);
    free(line);
    return rc;
}

typedef struct export_ctx {
    FILE *out;
    size_t rows;
    ae_buf buf;
} export_ctx;

static int export_row(const ae_vs_record *r, void *ctx)
{
    export_ctx *x = ctx;
    x->buf.len = 0;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "symbol_id", r->symbol_id, "sir_hash",
                          r->sir_hash, "provider", r->provider, "model", r->model);
    if (!o) return AE_ENOMEM;
    char *head = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!head) return AE_ENOMEM;
    /* Reopen the object to append the vector without building a jansson array. */
    head[strlen(head) - 1] = '\0';
    int rc = ae_buf_puts(&x->buf, head);
    free(head);
    rc = rc < 0 ? rc : ae_buf_printf(&x->buf, ",\"embedding\":[");
    for (uint32_t i = 0; rc == 0 && i < r->dim; i++)
        rc = ae_buf_printf(&x->buf, i ? ",%.9g" : "%.9g", (double)r->embedding[i]);
    if (rc == 0) rc = ae_buf_printf(&x->buf, "],\"updated_at\":%lld}\n", (long long)r->updated_at);
    if (rc < 0) return AE_ENOMEM;
    if (fwrite(x->buf.data, 1, x->buf.len, x->out) != x->buf.len) return AE_EIO;
    x->rows++;
    return 0;
}

int ae_jsonl_export(ae_vector_store *vs, FILE *out, size_t *rows, ae_error *err)
{
    export_ctx x = {.out = out};
    int rc = ae_vs_iterate(vs, export_row, &x, err);
    ae_buf_free(&x.buf);
    *rows = x.rows;
    if (rc == AE_ENOMEM) return ae_fail(err, AE_ENOMEM, "out of memory while exporting");
    if (rc == AE_EIO) return ae_fail(err, AE_EIO, "write failed after %zu rows", x.rows);
    if (rc == 0 && fflush(out) != 0) return ae_fail(err, AE_EIO, "write failed");
    return rc;
}
