/* The full-text index in meta.sqlite (lexical search), kept in step with the
 * symbols and sir tables by the meta writes themselves.
 *
 *   fts_doc(rowid INTEGER PRIMARY KEY, symbol_id UNIQUE, file_path)
 *       stable integer rowids for the FTS tables (the symbols table's own
 *       rowid may change on VACUUM: its key is TEXT)
 *   fts_words  FTS5 unicode61 (tokenchars '_'): name, qualified_name, path,
 *       sir, tags -- each the text cut by src/text/tokenize (sub-tokens plus
 *       whole identifiers), sir the SIR's string values, tags "language kind";
 *       ranked with bm25() and the field weights AE_FTS_WEIGHTS
 *   fts_names  FTS5 trigram: name (empty when qualified_name contains it),
 *       qualified_name -- substring matches (LIKE '%q%') from the index
 *   fts_path_doc / fts_paths  FTS5 trigram over each distinct file_path once
 *
 * Schema: an additive, idempotent block (CREATE ... IF NOT EXISTS) plus a
 * one-time backfill from the rows already there, recorded as
 * aether_c_meta(key='fts_version'); a store without it (opened read-only
 * before any writer ran, or written by the reference tool) is searched by the
 * LIKE scan instead. */
#ifndef AE_META_META_FTS_H
#define AE_META_META_FTS_H

#include "meta/meta.h"

#define AE_FTS_VERSION "1"
/* bm25() weights of fts_words' columns: name, qualified_name, path, sir, tags. */
#define AE_FTS_WEIGHTS "4.0, 2.0, 1.0, 1.0, 0.5"

/* Creates the FTS tables and indexes; backfills once (see above). */
int ae_meta_fts_migrate(ae_meta *m, ae_error *err);
/* true when the index exists and was backfilled (search may use it). */
int ae_meta_fts_ready(ae_meta *m, bool *ready, ae_error *err);

/* Called by the meta writes (inside the caller's transaction). */
int ae_meta_fts_symbol(ae_meta *m, const ae_symbol *s, ae_error *err);
int ae_meta_fts_symbol_delete(ae_meta *m, const char *id, ae_error *err);
int ae_meta_fts_sir(ae_meta *m, const char *id, const char *sir_json, ae_error *err);

/* Registers ae_bm25(fts_words, k, counts, weights...) on m's connection (once;
 * read-only connections too): FTS5's bm25() with the same scores, except that
 * rows which cannot be among the k best (k <= 0: none) score 0 instead,
 * unscored.  So `ORDER BY ae_bm25(fts_words, k, ...) LIMIT k` returns what the
 * same query with bm25() does, reading fewer document lengths.  counts: NULL,
 * or the rows each phrase of the MATCH matches, space-separated, -1 for
 * unknown (meta_fts.c note 5). */
int ae_meta_fts_rank_register(ae_meta *m, ae_error *err);

/* meta.c's slot for this module's prepared statements, and their release
 * (called by ae_meta_close). */
void **ae_meta_fts_slot(ae_meta *m);
void ae_meta_fts_close(ae_meta *m);

/* Text helpers shared with the query side: tokens of s joined by one space
 * (flags of text/tokenize.h); SIR string values (keys skipped, escapes as
 * spaces) cut the same way.  Caller frees *out. */
int ae_fts_tokens(const char *s, unsigned flags, char **out, ae_error *err);
int ae_fts_sir_text(const char *sir_json, char **out, ae_error *err);

#endif
