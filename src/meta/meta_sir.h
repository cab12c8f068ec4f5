/* SIR rows with their generation status, and SIR history (reference-contract section 3).
 *
 * Every `sir` row carries sir_status ("fresh" | "stale"), last_error and last_attempt_at (unix
 * seconds).  A failed generation keeps the previous SIR and turns the row stale; a symbol that
 * never had a SIR gets a placeholder row (sir_hash '', sir_json NULL, sir_version 0) so the
 * error is visible to `aether_get_sir` and hovers, as in the reference tool.  "Has a SIR" means
 * sir_json IS NOT NULL AND sir_hash <> '' everywhere (AE_META_SIR_PRESENT).
 *
 * The columns are added by meta_sir_migrate (called from ae_meta_open): an idempotent block of
 * ALTER TABLE ADD COLUMN for what is missing, recorded in aether_c_meta as
 * key 'sir_status_columns' = '1'. */
#ifndef AE_META_META_SIR_H
#define AE_META_META_SIR_H

#include "meta/meta.h"

#include <aether/error.h>
#include <aether/sir.h>
#include <stdbool.h>
#include <stdint.h>

#define AE_SIR_STATUS_FRESH "fresh"
#define AE_SIR_STATUS_STALE "stale"
/* SQL condition on a `sir` row (alias-free) that it holds an actual SIR. */
#define AE_META_SIR_PRESENT "(sir_json IS NOT NULL AND sir_hash <> '')"

/* Adds sir_status, last_error, last_attempt_at and source_hash to `sir` when missing; rows that
 * existed before become fresh with last_attempt_at = updated_at (ms -> s).  Idempotent. */
int meta_sir_migrate(ae_meta *m, ae_error *err);

/* What the pipeline needs to decide whether a symbol gets a new SIR. */
typedef struct ae_meta_sir_state {
    bool symbol_same; /* the symbols row exists with this content_hash */
    bool row;         /* a sir row exists (a SIR or a stale placeholder) */
    bool present;     /* it holds a SIR */
    bool stale;       /* sir_status = 'stale' */
    bool same_source; /* source_hash equals the given content hash, or is unknown (NULL) */
    char provider[64], model[256]; /* of the row ("" without one; longer names are cut) */
} ae_meta_sir_state;

int ae_meta_sir_state_get(ae_meta *m, const char *id, const char *content_hash,
                          ae_meta_sir_state *out, ae_error *err);

/* A successful generation: writes the row (fresh, last_error NULL, last_attempt_at = now) and,
 * when the hash differs from the current one, a sir_history row with commit_hash (NULL outside
 * git).  source_hash is the symbol's content_hash the SIR was made from.  *changed tells
 * whether a new version was written. */
typedef struct ae_meta_sir_write {
    const char *id, *sir_hash, *provider, *model, *sir_json;
    const char *source_hash; /* may be NULL */
    const char *commit_hash; /* may be NULL */
    int64_t now_ms;
} ae_meta_sir_write;

int ae_meta_sir_store(ae_meta *m, const ae_meta_sir_write *w, bool *changed, ae_error *err);

/* A failed generation: the row keeps its SIR (or becomes a placeholder with this provider and
 * model) and turns stale with error and last_attempt_at = now. */
int ae_meta_sir_mark_stale(ae_meta *m, const char *id, const char *provider, const char *model,
                           const char *error, int64_t now_ms, ae_error *err);

/* The row of a symbol with its status (*out allocated; *out NULL when there is no row); the history
 * of a symbol, oldest first (*out allocated, n = 0 when none).  Free with ae_sir_info_free /
 * ae_sir_history_free. */
int ae_meta_sir_info(ae_meta *m, const char *id, ae_sir_info **out, ae_error *err);
int ae_meta_sir_history(ae_meta *m, const char *id, ae_sir_history **out, ae_error *err);

#endif
