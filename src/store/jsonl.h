/* Bring your own vectors, and get them out: JSON Lines import/export through
 * the VectorStore interface of whichever backend is active.
 * One object per line: {"symbol_id","sir_hash","provider","model","embedding":[...]}
 * (an optional "updated_at" integer is kept). */
#ifndef AE_STORE_JSONL_H
#define AE_STORE_JSONL_H

#include <aether/vector_store.h>
#include <stdio.h>

#define AE_JSONL_BAD_LINES_KEPT 100
#define AE_JSONL_BATCH_ROWS     4096

typedef struct ae_jsonl_bad_line {
    size_t line;
    char message[200];
} ae_jsonl_bad_line;

typedef struct ae_jsonl_report {
    size_t lines, imported, bad;
    ae_jsonl_bad_line bad_lines[AE_JSONL_BAD_LINES_KEPT]; /* the first ones */
} ae_jsonl_report;

/* Parses one line into rec (strings point into *owner, a jansson value the
 * caller releases with json_decref; embedding malloc'd into *vec).
 * AE_EINVAL with a message saying what is wrong. */
int ae_jsonl_parse_line(const char *line, size_t len, ae_vs_record *rec, void **owner, float **vec,
                        ae_error *err);
void ae_jsonl_release(void *owner, float *vec);

/* Imports every good line in batches; bad lines are reported, not fatal.
 * `committed` (optional) sees each batch after the store committed it.
 * Returns negative only when the store itself fails (nothing of that batch
 * is written; earlier batches stay committed). */
typedef int (*ae_jsonl_batch_fn)(void *ctx, const ae_vs_record *recs, size_t n, ae_error *err);
int ae_jsonl_import(ae_vector_store *vs, FILE *in, ae_jsonl_batch_fn committed, void *ctx,
                    ae_jsonl_report *rep, ae_error *err);

/* Writes every live row of the store; *rows = lines written. */
int ae_jsonl_export(ae_vector_store *vs, FILE *out, size_t *rows, ae_error *err);

#endif
