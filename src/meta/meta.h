/* .aether/meta.sqlite: symbols, SIR (current and history), file states, the
 * legacy sir_embeddings table and per-backend embedding state.
 *
 * The core tables keep the reference tool's column names and types so its
 * databases open here (and ours there); columns this project adds are added
 * with ALTER TABLE when missing.  Our own schema version lives in
 * aether_c_meta(key='schema_version'), never in PRAGMA user_version, which
 * the reference tool uses for its own migrations. */
#ifndef AE_META_META_H
#define AE_META_META_H

#include "symbols/symbol.h"
#include "util/mem.h"

#include <aether/error.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define AE_META_SCHEMA_VERSION 1

typedef struct ae_meta ae_meta;

/* Opens (and creates/migrates unless readonly) the database at path. */
int ae_meta_open(const char *path, bool readonly, ae_meta **out, ae_error *err);
void ae_meta_close(ae_meta *m);
sqlite3 *ae_meta_db(ae_meta *m); /* borrowed */

int ae_meta_begin(ae_meta *m, ae_error *err);
int ae_meta_commit(ae_meta *m, ae_error *err);
void ae_meta_rollback(ae_meta *m);

/* Runs one statement with no results. */
int ae_meta_exec(ae_meta *m, const char *sql, ae_error *err);
/* Prepares (cached by the caller's pointer); returns AE_EIO with the SQL error. */
int ae_meta_prepare(ae_meta *m, const char *sql, sqlite3_stmt **st, ae_error *err);

/* Files: what the last index run saw, so unchanged files are skipped. */
typedef struct ae_file_state {
    int64_t mtime_ns;
    int64_t size;
} ae_file_state;

int ae_meta_file_get(ae_meta *m, const char *path, ae_file_state *out, bool *found, ae_error *err);
int ae_meta_file_put(ae_meta *m, const char *path, const ae_file_state *st, ae_error *err);
int ae_meta_file_delete(ae_meta *m, const char *path, ae_error *err);
/* Every file path recorded, sorted. */
int ae_meta_file_list(ae_meta *m, ae_strlist *out, ae_error *err);

/* Symbols. */
int ae_meta_symbol_ids_for_file(ae_meta *m, const char *path, ae_strlist *out, ae_error *err);
/* Inserts or updates; *content_changed tells whether content_hash differs from
 * the stored one (true for a new symbol). */
int ae_meta_symbol_upsert(ae_meta *m, const ae_symbol *s, int64_t now_ms, bool *content_changed,
                          ae_error *err);
/* Removes the symbol, its current SIR and its legacy embedding row; history and
 * embedding_state stay (the pipeline prunes vectors through the latter). */
int ae_meta_symbol_delete(ae_meta *m, const char *id, ae_error *err);
int ae_meta_symbol_count(ae_meta *m, int64_t *out, ae_error *err);
int ae_meta_sir_count(ae_meta *m, int64_t *out, ae_error *err);

/* SIR.  put writes a history row only when the hash differs from the current one;
 * *changed reports that.  The short form of ae_meta_sir_store (meta/meta_sir.h, with status,
 * source_hash and commit_hash). */
int ae_meta_sir_put(ae_meta *m, const char *id, const char *sir_hash, const char *provider,
                    const char *model, const char *sir_json, int64_t now_ms, bool *changed,
                    ae_error *err);
/* *json allocated (caller frees), NULL and *found=false when absent. */
int ae_meta_sir_get(ae_meta *m, const char *id, char **json, char hash[AE_BLAKE3_HEX_LEN + 1],
                    bool *found, ae_error *err);

/* Embedding state per vector backend: which sir_hash was embedded with which
 * provider/model.  Written after the backend committed, so a crash between the
 * two only causes a re-embed. */
int ae_meta_embedded_put(ae_meta *m, const char *backend, const char *id, const char *sir_hash,
                         const char *provider, const char *model, ae_error *err);
int ae_meta_embedded_delete(ae_meta *m, const char *backend, const char *id, ae_error *err);

#endif
