/* Watch mode: `aetherd [--workspace DIR]` with no mode flag (include/aether/watch.h).
 * The initial incremental pass, then batches of changed paths until SIGINT or SIGTERM, which
 * end the run after the batch in progress (exit 0).  Output:
 *   stdout  --print-events: one JSON line per file whose symbols changed (the reference's
 *           shape); --print-sir: SIR_STORED / SIR_STALE / EMBEDDING_STORED lines
 *   stderr  the log (cli_log): notices, one line per batch (human: on a terminal only; json:
 *           always), progress of full passes on a terminal */
#include "cli/cli.h"

#include <aether/watch.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ae_watch *g_watch;

/* The first SIGINT/SIGTERM stops after the batch in progress (or abandons a long one at its
 * next file, keeping what committed); a second one ends the process at once (the store is
 * crash-safe). */
static void on_signal(int sig)
{
    signal(sig, SIG_DFL);
    if (g_watch) ae_watch_stop(g_watch);
}

static json_t *symbol_json(const ae_change_symbol *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:i, s:i}, s:{s:i, s:i}}}",
                     "id", s->id, "language", s->language, "file_path", s->file_path, "kind",
                     s->kind, "name", s->name, "qualified_name", s->qualified_name,
                     "signature_fingerprint", s->signature_fingerprint, "content_hash",
                     s->content_hash, "range", "start", "line", s->start_line, "column",
                     s->start_column, "end", "line", s->end_line, "column", s->end_column);
}

static json_t *symbols_json(const ae_change_symbol *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, symbol_json(&s[i]));
    return a;
}

static void print_event(void *ctx, const ae_change_event *ev)
{
    (void)ctx;
    json_t *o = json_object();
    json_object_set_new(o, "file_path", json_string(ev->file_path));
    json_object_set_new(o, "language", ev->language ? json_string(ev->language) : json_null());
    json_object_set_new(o, "added", symbols_json(ev->added, ev->n_added));
    json_object_set_new(o, "removed", symbols_json(ev->removed, ev->n_removed));
    json_object_set_new(o, "updated", symbols_json(ev->updated, ev->n_updated));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) puts(s);
    free(s);
    json_decref(o);
    fflush(stdout);
}

static void print_sir(void *ctx, const char *id, const char *hash, const char *provider)
{
    (void)ctx;
    printf("SIR_STORED symbol_id=%s sir_hash=%s provider=%s\n", id, hash, provider);
    fflush(stdout);
}

static void print_sir_stale(void *ctx, const char *id, const char *error)
{
    (void)ctx;
    printf("SIR_STALE symbol_id=%s error=%s\n", id, error);
    fflush(stdout);
}

static void print_embedding(void *ctx, const char *id, const char *provider, const char *model)
{
    (void)ctx;
    printf("EMBEDDING_STORED symbol_id=%s provider=%s model=%s\n", id, provider, model);
    fflush(stdout);
}

typedef struct watch_ctx {
    const cli_options *o;
    bool tty;
} watch_ctx;

static const char *level_name(ae_watch_level l)
{
    return l == AE_WATCH_ERROR ? "error" : l == AE_WATCH_WARN ? "warn" : "info";
}

static void on_notice(void *ctx, ae_watch_level level, const char *event, const char *message)
{
    watch_ctx *c = ctx;
    cli_progress_done();
    cli_log_field f[] = {{"event", event, NULL}};
    cli_log(c->o->log_format, level_name(level), message, f, 1);
}

static void on_batch(void *ctx, const ae_watch_batch *b)
{
    watch_ctx *c = ctx;
    cli_progress_done();
    if (b->rc < 0) {
        char msg[AE_ERROR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof msg, "%s failed: %s (retried)", b->full ? "full pass" : "batch",
                 b->error ? b->error : "?");
        cli_log(c->o->log_format, "error", msg, NULL, 0);
        return;
    }
    if (c->o->log_format != LOG_JSON && !c->tty) return;
    char files[32], added[32], removed[32], updated[32], sirs[32], emb[32], ms[32], paths[32];
    snprintf(files, sizeof files, "%zu", b->files);
    snprintf(paths, sizeof paths, "%zu", b->paths);
    snprintf(added, sizeof added, "%zu", b->symbols_added);
    snprintf(removed, sizeof removed, "%zu", b->symbols_removed);
    snprintf(updated, sizeof updated, "%zu", b->symbols_updated);
    snprintf(sirs, sizeof sirs, "%zu", b->sirs_written);
    snprintf(emb, sizeof emb, "%zu", b->embeddings_written);
    snprintf(ms, sizeof ms, "%.0f", b->ms);
    cli_log_field f[] = {
        {"kind", b->full ? "full" : "paths", NULL},
        {"paths", NULL, paths},
        {"files", NULL, files},
        {"added", NULL, added},
        {"removed", NULL, removed},
        {"updated", NULL, updated},
        {"sirs_written", NULL, sirs},
        {"embeddings_written", NULL, emb},
        {"ms", NULL, ms},
    };
    char msg[160];
    size_t changed = b->symbols_added + b->symbols_removed + b->symbols_updated;
    snprintf(msg, sizeof msg, "%s: %zu file%s, %zu symbol%s changed (+%zu -%zu ~%zu), %s ms",
             b->full ? "full pass" : "batch", b->files, b->files == 1 ? "" : "s", changed,
             changed == 1 ? "" : "s", b->symbols_added, b->symbols_removed, b->symbols_updated, ms);
    cli_log(c->o->log_format, "info", msg, f, sizeof f / sizeof f[0]);
}

int cli_run_watch(ae_workspace *ws, const cli_options *o)
{
    int setup = cli_index_setup(ws, o);
    if (setup) return setup;
    watch_ctx c = {.o = o, .tty = isatty(STDERR_FILENO) == 1};
    ae_index_callbacks icb = {0};
    if (c.tty && o->log_format != LOG_JSON) icb.progress = cli_progress;
    if (o->print_sir) {
        icb.sir_stored = print_sir;
        icb.sir_stale = print_sir_stale;
        icb.embedding_stored = print_embedding;
    }
    if (o->print_events) icb.changed = print_event;
    ae_watch_options wo = {.debounce_ms = o->debounce_ms, .poll_ms = o->poll_ms};
    ae_watch_callbacks cb = {.index = &icb, .notice = on_notice, .batch = on_batch, .ctx = &c};
    ae_error err;
    if (ae_watch_open(ws, &wo, &cb, &g_watch, &err) < 0) {
        cli_log(o->log_format, "error", err.message, NULL, 0);
        return EXIT_RUNTIME;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char msg[4096 + 64];
    snprintf(msg, sizeof msg, "watching %s (%s, debounce %d ms)", ae_workspace_root(ws),
             ae_watch_backend_used(g_watch) == AE_WATCH_INOTIFY ? "inotify" : "polling",
             o->debounce_ms ? o->debounce_ms : AE_WATCH_DEBOUNCE_MS_DEFAULT);
    cli_log_field f[] = {{"pid", NULL, NULL}};
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    f[0].number = pid;
    cli_log(o->log_format, "info", msg, f, 1);
    int rc = ae_watch_run(g_watch, &err);
    cli_progress_done();
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    ae_watch_close(g_watch);
    g_watch = NULL;
    if (rc < 0) {
        cli_log(o->log_format, "error", err.message, NULL, 0);
        return EXIT_RUNTIME;
    }
    cli_log(o->log_format, "info", "stopped", NULL, 0);
    return EXIT_OK;
}
