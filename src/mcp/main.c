/* aether-mcp: the MCP server over stdio.  The only file of the server that
 * prints; stdout carries protocol messages only, logs go to stderr.
 *
 * 1. The workspace is opened read-only: the server never creates .aether/,
 *    never takes the writer lock, and so never blocks or disturbs a concurrent
 *    `aetherd --index-once`.
 * 2. A server started before the first index run reopens the workspace once
 *    .aether/meta.sqlite appears, so it needs no restart after indexing.
 * 3. A workspace that cannot be opened (a bad config.toml) does not stop the
 *    server: each tool call retries the open and reports the error as a tool
 *    error, so an agent can show it and the user can fix it in place. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <aether/aether.h>
#include <aether/checks.h>
#include <aether/explain.h>

#include "mcp/jsonrpc.h"
#include "mcp/tools.h"
#include "util/err.h"
#include "util/mem.h"

#ifndef AE_VERSION
#define AE_VERSION "dev"
#endif

typedef struct server_ctx {
    const char *dir;
    ae_workspace *ws;
    bool store_present;
    ae_strlist notices_logged; /* each distinct notice goes to stderr once */
} server_ctx;

static void usage(FILE *f)
{
    fprintf(f, "usage: aether-mcp [--workspace DIR]\n"
               "\n"
               "Serves the aether index of DIR (default: the current directory) to MCP\n"
               "clients over stdio: newline-delimited JSON-RPC 2.0 on stdin/stdout.\n"
               "Tools: aether_status, aether_symbol_lookup, aether_search, aether_get_sir,\n"
               "aether_explain, aether_symbol_timeline, aether_why_changed, aether_verify.\n"
               "The workspace is opened read-only; index it with\n"
               "  aetherd --workspace DIR --index-once\n"
               "\n"
               "options:\n"
               "  --workspace DIR  the workspace root (default .)\n"
               "  --help           this text\n"
               "  --version        the version\n");
}

static int open_ws(server_ctx *c, ae_error *err)
{
    ae_open_options oo = {.readonly = true};
    ae_workspace *ws;
    int rc = ae_workspace_open(c->dir, &oo, &ws, err);
    if (rc < 0) return rc;
    ae_status st;
    bool present = ae_workspace_status(ws, &st, err) == 0 && st.store_present;
    ae_workspace_close(c->ws);
    c->ws = ws;
    c->store_present = present;
    return 0;
}

/* Opens the workspace when it is not open (a bad config at startup is
 * reported by every tool call until it is fixed), and reopens it once the
 * store appears after startup (an index run finished). */
static int ensure_open(server_ctx *c, ae_error *err)
{
    if (!c->ws) return open_ws(c, err);
    if (c->store_present) return 0;
    struct stat sb;
    if (stat(ae_workspace_meta_path(c->ws), &sb) != 0) return 0;
    ae_error e2;
    if (open_ws(c, &e2) < 0) fprintf(stderr, "aether-mcp: reopening %s: %s\n", c->dir, e2.message);
    return 0;
}

/* Backend fallbacks and index hints from the last call: logged, since the
 * tool results have no place for them (fallback_reason covers search). */
static void log_notices(server_ctx *c)
{
    size_t n = 0;
    const char *const *notes = ae_workspace_notices(c->ws, &n);
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < c->notices_logged.len && !seen; j++)
            seen = !strcmp(c->notices_logged.items[j], notes[i]);
        if (seen) continue;
        fprintf(stderr, "aether-mcp: note: %s\n", notes[i]);
        ae_strlist_push(&c->notices_logged, notes[i]);
    }
}

static int be_status(void *ctx, ae_status *out, ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    int rc = ae_workspace_status(c->ws, out, err);
    log_notices(c);
    return rc;
}

static int be_get_sir(void *ctx, const char *id, ae_sir_info **out, ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    return ae_workspace_sir_info(c->ws, id, out, err);
}

static int be_search(void *ctx, const char *query, ae_search_mode mode, size_t limit,
                     const ae_search_filter *filter, ae_search_results **out, ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    ae_vs_search_opts opts = {0}; /* the CLI's defaults: the index's own nprobe/refine */
    ae_search_options so = {.vs = &opts};
    if (filter) so.filter = *filter;
    int rc = ae_search_ex(c->ws, query, mode, limit, &so, out, err);
    log_notices(c);
    return rc;
}

static int be_explain(void *ctx, const char *path, ae_position pos, ae_explain_result **out,
                      ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    return ae_workspace_explain(c->ws, path, pos, out, err);
}

static int be_timeline(void *ctx, const char *id, size_t limit, ae_sir_timeline **out,
                       ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    return ae_workspace_sir_timeline(c->ws, id, limit, out, err);
}

static int be_why_changed(void *ctx, const char *id, const ae_why_selector *sel,
                          ae_why_changed **out, ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    return ae_workspace_why_changed(c->ws, id, sel, out, err);
}

static int be_verify(void *ctx, const ae_verify_request *rq, ae_verify_result **out, ae_error *err)
{
    server_ctx *c = ctx;
    AE_TRY(ensure_open(c, err));
    return ae_workspace_verify(c->ws, rq, out, err);
}

static const char *be_root(void *ctx)
{
    server_ctx *c = ctx;
    return c->ws ? ae_workspace_root(c->ws) : c->dir;
}

static const char *be_meta_path(void *ctx)
{
    server_ctx *c = ctx;
    return c->ws ? ae_workspace_meta_path(c->ws) : "";
}

static const char *be_sir_dir(void *ctx)
{
    server_ctx *c = ctx;
    return c->ws ? ae_workspace_sir_dir(c->ws) : "";
}

int main(int argc, char **argv)
{
    server_ctx c = {.dir = "."};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("aether-mcp %s\n", AE_VERSION);
            return 0;
        } else if (!strcmp(a, "--workspace")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "aether-mcp: --workspace needs a directory\n");
                return 2;
            }
            c.dir = argv[++i];
        } else if (!strncmp(a, "--workspace=", 12)) {
            c.dir = a + 12;
        } else {
            fprintf(stderr, "aether-mcp: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    struct stat sb;
    if (stat(c.dir, &sb) != 0) {
        fprintf(stderr, "aether-mcp: workspace %s: %s\n", c.dir, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "aether-mcp: workspace %s: not a directory\n", c.dir);
        return 2;
    }

    ae_error err;
    if (open_ws(&c, &err) < 0) {
        /* Keep serving: every tool call reports the problem (and retries), so
         * the agent can tell the user what to fix. */
        fprintf(stderr, "aether-mcp: %s\n", err.message);
    } else {
        size_t nw = 0;
        const char *const *warnings = ae_workspace_warnings(c.ws, &nw);
        for (size_t i = 0; i < nw; i++)
            fprintf(stderr, "aether-mcp: warning: %s\n", warnings[i]);
    }
    fprintf(stderr, "aether-mcp %s: serving %s over stdio%s\n", AE_VERSION,
            c.ws ? ae_workspace_root(c.ws) : c.dir,
            !c.ws             ? " (workspace not open: see above)"
            : c.store_present ? ""
                              : " (no index yet: run aetherd --index-once)");

    /* A client that goes away makes writes fail with EPIPE; we then stop. */
    signal(SIGPIPE, SIG_IGN);

    mcp_backend be = {
        .ctx = &c,
        .status = be_status,
        .get_sir = be_get_sir,
        .search = be_search,
        .results_free = ae_search_results_free,
        .root = be_root,
        .meta_path = be_meta_path,
        .sir_dir = be_sir_dir,
        .explain = be_explain,
        .timeline = be_timeline,
        .why_changed = be_why_changed,
        .verify = be_verify,
    };
    mcp_server s;
    mcp_server_init(&s, &be, AE_VERSION);
    int rc = mcp_serve(&s, stdin, stdout);
    if (rc < 0) fprintf(stderr, "aether-mcp: stopping: %s\n", ae_strerror(rc));
    ae_workspace_close(c.ws);
    ae_strlist_free(&c.notices_logged);
    return rc < 0 ? 1 : 0;
}
