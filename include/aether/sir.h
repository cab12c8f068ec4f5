/* libaether: a symbol's SIR with its generation status, and its SIR history.
 *
 *   ae_sir_info *s;
 *   if (ae_workspace_sir_info(ws, id, &s, &err) == 0) {
 *       ... s->sir_json (NULL: no SIR yet), s->sir_status, s->last_error ...
 *       ae_sir_info_free(s);
 *   }
 *   ae_sir_history *h;
 *   ae_workspace_sir_history(ws, id, &h, &err);  ... h->versions[0 .. h->n-1] ...
 *   ae_sir_history_free(h);
 *
 * Status (reference-contract section 3): "fresh" when the last generation succeeded; "stale"
 * when it failed, with last_error and last_attempt_at.  A stale symbol keeps its previous SIR;
 * one whose first generation failed has a row without a SIR (has_sir false). */
#ifndef AETHER_SIR_H
#define AETHER_SIR_H

#include <aether/aether.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ae_sir_info {
    char symbol_id[65];
    bool has_sir;        /* false: only a failed attempt is recorded */
    char *sir_json;      /* canonical SIR JSON; NULL when !has_sir */
    char sir_hash[65];   /* "" when !has_sir */
    int64_t sir_version; /* 0 when !has_sir */
    char *provider;      /* who wrote the SIR (or failed to) */
    char *model;
    int64_t updated_at;      /* when the SIR was written, unix milliseconds; 0 when !has_sir */
    char sir_status[8];      /* "fresh" | "stale" */
    char *last_error;        /* NULL unless stale */
    int64_t last_attempt_at; /* unix seconds of the last generation attempt; 0 when unknown */
} ae_sir_info;

/* The SIR row of a symbol.  AE_ENOTFOUND when there is none (never attempted, or removed).
 * *out is allocated; free with ae_sir_info_free. */
int ae_workspace_sir_info(ae_workspace *ws, const char *symbol_id, ae_sir_info **out,
                          ae_error *err);
void ae_sir_info_free(ae_sir_info *s); /* accepts NULL */

typedef struct ae_sir_version {
    int64_t version; /* 1, 2, ... */
    char sir_hash[65];
    char *provider, *model;
    int64_t created_at; /* unix milliseconds */
    char *commit_hash;  /* the workspace's git HEAD when written (40 hex); NULL outside git */
    char *sir_json;
} ae_sir_version;

typedef struct ae_sir_history {
    ae_sir_version *versions; /* oldest first */
    size_t n;                 /* 0 when the symbol has no recorded version */
} ae_sir_history;

/* Every recorded SIR version of a symbol (also of one removed since: history is kept).
 * Free with ae_sir_history_free. */
int ae_workspace_sir_history(ae_workspace *ws, const char *symbol_id, ae_sir_history **out,
                             ae_error *err);
void ae_sir_history_free(ae_sir_history *h); /* accepts NULL */

#ifdef __cplusplus
}
#endif
#endif
