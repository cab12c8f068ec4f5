/* libaether: keeping the index fresh while files change (docs/ARCHITECTURE.md, "Watching").
 *
 * Two layers:
 *   ae_workspace_index_paths  re-index given files or directories, by symbol diff;
 *   ae_watch                  a watcher (inotify, polling where inotify cannot be had) that
 *                             debounces paths and feeds them to ae_workspace_index_paths in
 *                             bounded batches.
 *
 * The watcher owns no thread and no loop of its own unless asked (ae_watch_run).  To put it in
 * another event loop (an LSP server, a GUI), poll ae_watch_fd() for readability and call
 * ae_watch_step() when it is readable: the descriptor becomes readable when file events
 * arrived, when a debounced path falls due, and after ae_watch_wake().  ae_watch_step never
 * blocks on the descriptor; it does block for the duration of a batch (extraction, SIR
 * generation, the commits).
 *
 *   ae_watch *w;
 *   ae_watch_open(ws, &opts, &cb, &w, &err);   // watches set up, the initial pass is due
 *   ae_watch_run(w, &err);                     // until ae_watch_stop (signal-safe)
 *   ae_watch_close(w);
 *
 * Nothing is printed: notices (inotify overflow, watch limit, polling fallback, rescans) go to
 * the notice callback, per-file symbol diffs to ae_index_callbacks.changed, and one summary per
 * batch to the batch callback.  One writer at a time: ae_watch_open takes the workspace's watch
 * lock (AE_EBUSY "already watched by pid N"); each batch holds the workspace writer lock only
 * while it writes, so one-shot writers (--index-once, imports, optimize) wait for the current
 * batch rather than fail.
 *
 * The ANN (IVF-PQ) index is never built inside a batch: when the vector store's policy finds
 * a build due, the watcher forks a child process that builds and publishes it (the table's
 * writer lock for one commit) while batches go on; rows committed meanwhile are scanned
 * exactly until the next build.  The child closes every inherited descriptor, dies with its
 * parent, and is killed by ae_watch_close (a stop abandons the build).  A caller that reaps
 * every child (waitpid(-1)) from a SIGCHLD handler takes nothing from it: the result comes
 * through a pipe. */
#ifndef AETHER_WATCH_H
#define AETHER_WATCH_H

#include <aether/aether.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Re-indexes paths (workspace-relative or absolute under the root; files or directories; ""
 * or "." is the whole workspace).  Each path is listed by the indexer's own rules
 * (.gitignore inside git, the skip list elsewhere, binaries and foreign symlinks left out):
 * files that are there are re-extracted and diffed against their stored symbols (added,
 * removed, updated by id and content_hash); stored files that are no longer there (deleted,
 * renamed, now ignored) lose their symbols.  Only new or changed symbols get SIRs and
 * embeddings; removed symbols leave the vector store and the legacy table.  The result equals
 * what a full ae_workspace_index would write for those files (docs/ARCHITECTURE.md states the
 * embedding-model policy).  Writes go in batches of AE_INDEX_BATCH_FILES files (one meta
 * transaction each), so memory stays bounded for any number of paths.  A path outside the
 * workspace or with a ".." component is AE_EINVAL, before anything is written. */
int ae_workspace_index_paths(ae_workspace *ws, const char *const *paths, size_t n_paths,
                             const ae_index_callbacks *cb, ae_index_stats *stats, ae_error *err);

typedef struct ae_watch ae_watch;

#define AE_WATCH_DEBOUNCE_MS_DEFAULT 300
#define AE_WATCH_DEBOUNCE_MS_MAX     600000
#define AE_WATCH_BATCH_PATHS_DEFAULT 256
/* Pending paths beyond this collapse into one full rescan (bounded memory in any storm). */
#define AE_WATCH_PENDING_MAX 65536

typedef enum ae_watch_backend {
    AE_WATCH_INOTIFY, /* kernel events (Linux) */
    AE_WATCH_POLL,    /* a stat scan every poll_ms */
} ae_watch_backend;

typedef struct ae_watch_options {
    int debounce_ms;    /* a path is processed once no event for it came for this long;
                           0: AE_WATCH_DEBOUNCE_MS_DEFAULT */
    size_t batch_paths; /* due paths per batch; 0: AE_WATCH_BATCH_PATHS_DEFAULT */
    int poll_ms;        /* > 0: poll every poll_ms instead of inotify (network file systems);
                           also the interval of the automatic fallback (0: 1000) */
    bool force_poll;    /* poll even where inotify works */
    bool skip_initial;  /* no initial full pass (the caller indexed already) */
} ae_watch_options;

typedef enum ae_watch_level { AE_WATCH_INFO, AE_WATCH_WARN, AE_WATCH_ERROR } ae_watch_level;

/* One batch of the watcher (a debounced set of paths, or a full rescan). */
typedef struct ae_watch_batch {
    bool full;    /* the initial pass or a rescan (overflow, watch limit, .gitignore) */
    size_t paths; /* paths processed (0 for a full pass) */
    size_t files; /* files re-extracted or removed */
    size_t symbols_added, symbols_removed, symbols_updated;
    size_t sirs_written, sirs_failed, embeddings_written, embeddings_deleted;
    double ms;         /* wall time of the batch */
    int rc;            /* 0, or the error of a failed batch (its paths are retried) */
    const char *error; /* rc's message, or NULL */
} ae_watch_batch;

typedef struct ae_watch_callbacks {
    /* Indexing callbacks for every batch: progress, SIR_STORED/SIR_STALE/EMBEDDING_STORED,
     * change events.  May be NULL. */
    const ae_index_callbacks *index;
    /* A notice for the user.  event is a stable key: "poll_fallback" (inotify unavailable),
     * "overflow" (the kernel queue overflowed), "watch_limit" (fs.inotify.max_user_watches
     * reached), "rescan" (a full pass is due, message says why), "pending_limit" (more than
     * AE_WATCH_PENDING_MAX paths: collapsed into a rescan), "index" (a notice of the indexer,
     * e.g. a model retrained), "batch_failed", "index_build" (an ANN index build started in
     * the background; the message names its pid), "index_built" (it published), "abandoned"
     * (a stop during a batch, a full pass or an index build). */
    void (*notice)(void *ctx, ae_watch_level level, const char *event, const char *message);
    /* After every batch, committed or failed. */
    void (*batch)(void *ctx, const ae_watch_batch *b);
    void *ctx;
} ae_watch_callbacks;

/* Takes the watch lock, sets up watches (recursive; inotify or polling) and makes the initial
 * full pass due (unless skip_initial).  ws must be read-write and stay open until close;
 * cb is copied (the structs it points to must outlive the watcher). */
int ae_watch_open(ae_workspace *ws, const ae_watch_options *opts, const ae_watch_callbacks *cb,
                  ae_watch **out, ae_error *err);
/* Readable when ae_watch_step has work to do (see the top of this file). */
int ae_watch_fd(const ae_watch *w);
ae_watch_backend ae_watch_backend_used(const ae_watch *w);
/* Reads pending events and runs at most one batch of due paths (or a due full pass).
 * Never waits for events.  Returns 0 (also when a batch failed: the batch callback says so
 * and its paths are retried after the debounce), or a negative code when the watcher cannot
 * go on (the workspace root vanished, the event source failed). */
int ae_watch_step(ae_watch *w, ae_error *err);
/* poll(ae_watch_fd) + ae_watch_step until ae_watch_stop; returns 0 after a stop, between
 * batches (a batch in progress is finished first). */
int ae_watch_run(ae_watch *w, ae_error *err);
/* Async-signal-safe: asks ae_watch_run to return and wakes it. */
void ae_watch_stop(ae_watch *w);
/* Async-signal-safe: makes ae_watch_fd readable. */
void ae_watch_wake(ae_watch *w);
/* Paths waiting for their debounce (or a batch). */
size_t ae_watch_pending(const ae_watch *w);
/* Releases the watches and the watch lock; accepts NULL. */
void ae_watch_close(ae_watch *w);

#ifdef __cplusplus
}
#endif
#endif
