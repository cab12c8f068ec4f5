/* The "lancedb" VectorStore backend: our own C implementation of the Lance
 * design (see src/vectors/table.h) -- it is not the LanceDB library.
 *
 * 1. One table per (provider, model, dim), created on the first upsert of
 *    that key; search, count and iterate never create anything.
 * 2. Tables are opened lazily and cached; each read refreshes the table to
 *    the newest committed version first, so a long-lived reader (the MCP
 *    server) sees other processes' commits.  The writer lock of a table is
 *    taken at its first write and held until close, so read-only users never
 *    block or get blocked.
 * 3. Like the SQLite backend (symbol_id is its primary key), an upsert also
 *    removes the same ids from the other tables, so both backends hold the
 *    same rows.  That second step is a separate commit per table: a crash
 *    between the two can leave an id in an old model's table (a query of that
 *    old model would still find it), never lose the new row. */
#include <aether/vector_store.h>

#include "store/lancedb_admin.h"
#include "store/vs_validate.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lance_be {
    char *dir;
    ae_table **tables;
    size_t n, cap;
} lance_be;

static ae_table *cached(lance_be *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(ae_table_get_name(b->tables[i]), name)) return b->tables[i];
    return NULL;
}

static int cache_add(lance_be *b, ae_table *t, ae_error *err)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        ae_table **ts = ae_realloc_array(b->tables, cap, sizeof *ts);
        if (!ts) {
            ae_table_close(t);
            return ae_fail(err, AE_ENOMEM, "out of memory");
        }
        b->tables = ts;
        b->cap = cap;
    }
    b->tables[b->n++] = t;
    return 0;
}

/* The table of a key, from the cache or opened (created if `create`). */
static int table_for(lance_be *b, const char *provider, const char *model, uint32_t dim, int create,
                     ae_table **out, ae_error *err)
{
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(provider, model, dim, name);
    *out = cached(b, name);
    if (*out) return ae_table_refresh(*out, err);
    ae_table *t = NULL;
    AE_TRY(ae_table_open(b->dir, provider, model, dim, create, NULL, &t, err));
    AE_TRY(cache_add(b, t, err));
    *out = t;
    return 0;
}

/* Opens (and refreshes) every table of the directory into the cache. */
static int open_all(lance_be *b, ae_error *err)
{
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(b->dir, &names, err));
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        ae_table *t = cached(b, names.items[i]);
        if (t) {
            rc = ae_table_refresh(t, err);
            continue;
        }
        char *path = ae_path_join(b->dir, names.items[i]);
        if (!path) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
        rc = ae_table_open_dir(path, NULL, &t, err);
        free(path);
        if (rc == 0) rc = cache_add(b, t, err);
    }
    ae_strlist_free(&names);
    return rc;
}

static int same_key(const ae_vs_record *a, const ae_vs_record *c)
{
    return a->dim == c->dim && !strcmp(a->provider, c->provider) && !strcmp(a->model, c->model);
}

static int lance_upsert(void *be, const ae_vs_record *recs, size_t n, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(ae_vs_validate_records(recs, n, err));
    if (n == 0) return 0;
    ae_vs_record *group = ae_calloc_array(n, sizeof *group);
    const char **ids = ae_calloc_array(n, sizeof *ids);
    char *done = calloc(n, 1);
    int rc = 0;
    if (!group || !ids || !done) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu records", n);
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        size_t g = 0;
        for (size_t j = i; j < n; j++) {
            if (done[j] || !same_key(&recs[i], &recs[j])) continue;
            group[g] = recs[j];
            ids[g++] = recs[j].symbol_id;
            done[j] = 1;
        }
        ae_table *t = NULL;
        AE_CHECK(table_for(b, recs[i].provider, recs[i].model, recs[i].dim, 1, &t, err));
        AE_CHECK(ae_table_upsert(t, group, g, err));
        /* the same ids leave every other table (see note 3) */
        AE_CHECK(open_all(b, err));
        for (size_t k = 0; k < b->n; k++) {
            if (b->tables[k] == t) continue;
            AE_CHECK(ae_table_delete(b->tables[k], ids, g, NULL, err));
        }
    }
cleanup:
    free(group);
    free(ids);
    free(done);
    return rc;
}

static int lance_delete(void *be, const char *const *ids, size_t n, ae_error *err)
{
    lance_be *b = be;
    if (n == 0) return 0;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++)
        AE_TRY(ae_table_delete(b->tables[i], ids, n, NULL, err));
    return 0;
}

static int lance_search(void *be, const float *query, uint32_t dim, const char *provider,
                        const char *model, size_t limit, const ae_vs_search_opts *opts,
                        ae_vs_hit **hits, size_t *n_hits, ae_error *err)
{
    lance_be *b = be;
    *hits = NULL;
    *n_hits = 0;
    AE_TRY(ae_vs_validate_query(query, dim, provider, model, err));
    ae_table *t = NULL;
    int rc = table_for(b, provider, model, dim, 0, &t, err);
    if (rc == AE_ENOTFOUND || (rc == 0 && ae_table_rows_live(t) == 0))
        return ae_fail(err, AE_ENOTFOUND, "no vectors for provider %s, model %s, dim %u", provider,
                       model, (unsigned)dim);
    if (rc < 0) return rc;
    /* exact scan until the IVF-PQ index is wired into the table */
    return ae_table_search(t, query, dim, limit, hits, n_hits, err);
}

static int lance_rebuild_index(void *be, ae_error *err)
{
    return 0;
}

static int lance_count(void *be, const char *provider, const char *model, size_t *out,
                       ae_error *err)
{
    lance_be *b = be;
    *out = 0;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++) {
        ae_table *t = b->tables[i];
        if (provider && strcmp(provider, ae_table_provider(t))) continue;
        if (model && strcmp(model, ae_table_model(t))) continue;
        *out += ae_table_rows_live(t);
    }
    return 0;
}

static int lance_iterate(void *be, ae_vs_row_fn fn, void *ctx, ae_error *err)
{
    lance_be *b = be;
    AE_TRY(open_all(b, err));
    for (size_t i = 0; i < b->n; i++) {
        int rc = ae_table_iterate(b->tables[i], fn, ctx, err);
        if (rc) return rc;
    }
    return 0;
}

static void lance_close(void *be)
{
    lance_be *b = be;
    if (!b) return;
    for (size_t i = 0; i < b->n; i++)
        ae_table_close(b->tables[i]);
    free(b->tables);
    free(b->dir);
    free(b);
}

static const ae_vector_store_ops lance_ops = {
    .name = "lancedb",
    .upsert = lance_upsert,
    .delete_ids = lance_delete,
    .search_nearest = lance_search,
    .rebuild_index = lance_rebuild_index,
    .count = lance_count,
    .iterate = lance_iterate,
    .close = lance_close,
};

int ae_vs_open_lancedb(const char *vectors_dir, ae_vector_store **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!vectors_dir || !*vectors_dir, err, AE_EINVAL, "no vectors directory given");
    AE_RETURN_IF(ae_path_exists(vectors_dir) && !ae_is_dir(vectors_dir), err, AE_EINVAL,
                 "%s is not a directory", vectors_dir);
    lance_be *b = calloc(1, sizeof *b);
    ae_vector_store *vs = malloc(sizeof *vs);
    if (!b || !vs || !(b->dir = ae_strdup(vectors_dir))) {
        free(b ? b->dir : NULL);
        free(b);
        free(vs);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    vs->ops = &lance_ops;
    vs->backend = b;
    *out = vs;
    return 0;
}

/* --- administration (lancedb_admin.h) ------------------------------------- */

int ae_lancedb_status(const char *vectors_dir, ae_table_status **out, size_t *n, ae_error *err)
{
    *out = NULL;
    *n = 0;
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(vectors_dir, &names, err));
    ae_table_status *st = ae_calloc_array(names.len + 1, sizeof *st);
    int rc = 0;
    if (!st) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < names.len; i++) {
        char *path = ae_path_join(vectors_dir, names.items[i]);
        ae_table *t = NULL;
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        rc = ae_table_open_dir(path, NULL, &t, err);
        free(path);
        if (rc == 0) rc = ae_table_status_get(t, &st[i], err);
        ae_table_close(t);
        if (rc < 0) goto cleanup;
    }
    *out = st;
    *n = names.len;
    st = NULL;
cleanup:
    free(st);
    ae_strlist_free(&names);
    return rc;
}

int ae_lancedb_optimize(const char *vectors_dir, const ae_table_opts *opts, ae_error *err)
{
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(vectors_dir, &names, err));
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        char *path = ae_path_join(vectors_dir, names.items[i]);
        ae_table *t = NULL;
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        rc = ae_table_open_dir(path, opts, &t, err);
        free(path);
        if (rc == 0) rc = ae_table_optimize(t, err);
        ae_table_close(t);
    }
cleanup:
    ae_strlist_free(&names);
    return rc;
}

int ae_lancedb_verify(const char *vectors_dir, ae_lancedb_table_report **out, size_t *n,
                      size_t *problems, ae_error *err)
{
    *out = NULL;
    *n = 0;
    if (problems) *problems = 0;
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(vectors_dir, &names, err));
    ae_lancedb_table_report *r = ae_calloc_array(names.len + 1, sizeof *r);
    int rc = 0;
    size_t done = 0;
    if (!r) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (; done < names.len; done++) {
        char *path = ae_path_join(vectors_dir, names.items[done]);
        if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
        snprintf(r[done].name, sizeof r[done].name, "%s", names.items[done]);
        rc = ae_table_verify(path, &r[done].report, err);
        free(path);
        if (rc < 0) goto cleanup;
        if (problems) *problems += r[done].report.n_problems;
    }
    *out = r;
    *n = done;
    r = NULL;
cleanup:
    if (r) ae_lancedb_verify_free(r, done);
    ae_strlist_free(&names);
    return rc;
}

void ae_lancedb_verify_free(ae_lancedb_table_report *r, size_t n)
{
    if (!r) return;
    for (size_t i = 0; i < n; i++)
        ae_verify_report_free(&r[i].report);
    free(r);
}
