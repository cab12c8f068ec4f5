/* The workspace handle shared by indexing and search (internal). */
#ifndef AE_WORKSPACE_WORKSPACE_H
#define AE_WORKSPACE_WORKSPACE_H

#include "config/config.h"
#include "meta/meta.h"
#include "util/clock.h"
#include "util/mem.h"

#include <aether/aether.h>
#include <signal.h>

typedef struct ae_embedder ae_embedder;

struct ae_workspace {
    char *root;        /* absolute */
    char *aether_dir;  /* root/.aether */
    char *config_path; /* root/.aether/config.toml */
    char *meta_path;   /* root/.aether/meta.sqlite */
    char *sir_dir;     /* root/.aether/sir */
    char *vectors_dir; /* root/.aether/vectors */
    bool readonly;
    bool store_present; /* meta.sqlite existed or was created */
    ae_config config;
    ae_meta *meta;            /* NULL when readonly and no store */
    ae_vector_store *vs;      /* opened lazily by ae_ws_vector_store */
    const char *backend_name; /* of vs: "lancedb" or "sqlite" */
    ae_embedder *embedder;    /* opened lazily */
    ae_strlist notices;
    int sir_concurrency;           /* 0: the default */
    int write_fd, write_depth;     /* the writer lock (write_lock.h); -1 until first used */
    volatile sig_atomic_t *cancel; /* set by a watcher: a writer waiting for the lock gives up */
    bool index_deferred;   /* set by a watcher: a full pass leaves the ANN index to it (it builds
                              in the background, src/watch/watch.c) */
    bool retrain_deferred; /* set by a watcher: a due retrain of the learned model is left to
                              it (a child process, model_retrain.h) while a usable model exists */
    bool retrain_wanted;   /* set by a pass that left a due retrain to the watcher */
};

/* The configured vector store, opened on first use. */
int ae_ws_vector_store(ae_workspace *ws, ae_vector_store **out, ae_error *err);
/* The configured embedder, opened on first use. */
int ae_ws_embedder(ae_workspace *ws, ae_embedder **out, ae_error *err);
/* Adds a notice for the caller to show (stderr in the CLI). */
void ae_ws_notice(ae_workspace *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Migration policy (migrate_ws.c), called by ae_ws_vector_store right after
 * it opened the configured backend into ws->vs.  Read-write: first-run
 * migration (marker absent), switch sync, orphan pruning; a summary goes to
 * the workspace notices.  Read-only: writes nothing; when the configured
 * backend is incomplete (no marker while legacy rows exist, or a sync
 * pending) it replaces ws->vs with the other backend for this process and
 * adds a notice saying why. */
int ae_migrate_on_open(ae_workspace *ws, ae_error *err);

#endif
