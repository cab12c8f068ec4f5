/* aetherd --lsp: the stdio loop around the protocol layer (server.h) and the framing
 * (frame.h).  What is unusual here:
 *
 * 1. stdout is the protocol stream and nothing else writes to it; aetherd's own messages
 *    (index results, failures) go to stderr, the client's log gets window/logMessage.
 * 2. SIGPIPE is ignored: a client that goes away makes a write fail, and the loop ends with
 *    status 1 instead of the process dying mid-write.
 * 3. --index: the watcher shares the loop.  poll() waits on the client and the watcher's
 *    descriptor; the client's bytes are handled first, then at most one watcher batch, so a
 *    flood of requests cannot starve indexing nor a long batch lose a message (they wait in
 *    the pipe).  A watcher that cannot start (another aetherd already watches the workspace)
 *    or stops is reported, and the server goes on serving what the store holds. */
#include "lsp/lsp.h"

#include <aether/watch.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsp/frame.h"
#include "lsp/lsp_backend.h"
#include "lsp/server.h"
#include "util/fs.h"

static int send_frame(void *ctx, const char *body, size_t len)
{
    int fd = *(const int *)ctx;
    char header[64];
    size_t h = lsp_frame_header(header, sizeof header, len);
    if (ae_write_all(fd, header, h) < 0 || ae_write_all(fd, body, len) < 0) return AE_EIO;
    return 0;
}

/* Reads what the client sent and handles every complete message: -1 to go on, else the exit
 * status (exit, EOF, a failure). */
static int client_bytes(lsp_server *s, lsp_framer *f, int fd, FILE *log)
{
    static char buf[1 << 16];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return -1;
    if (n <= 0) {
        if (n < 0) fprintf(log, "aetherd: reading the client: %s\n", strerror(errno));
        return lsp_server_eof_status(s);
    }
    if (lsp_framer_feed(f, buf, (size_t)n) < 0) {
        fprintf(log, "aetherd: out of memory reading a message\n");
        return 1;
    }
    const char *body;
    size_t len;
    lsp_frame_event ev;
    while ((ev = lsp_framer_next(f, &body, &len)) != LSP_FRAME_NEED_MORE) {
        int rc = ev == LSP_FRAME_MESSAGE ? lsp_handle_message(s, body, len)
                                         : lsp_handle_frame_error(s, f->error);
        if (rc < 0) {
            fprintf(log, "aetherd: %s\n",
                    rc == AE_ENOMEM ? "out of memory answering a message"
                                    : "writing to the client failed");
            return 1;
        }
        if (lsp_server_exited(s, &rc)) return rc;
    }
    return -1;
}

typedef struct watch_ctx {
    lsp_server *server;
    FILE *log;
} watch_ctx;

static void on_notice(void *ctx, ae_watch_level level, const char *event, const char *message)
{
    watch_ctx *c = ctx;
    fprintf(c->log, "aetherd: watch: %s (%s)\n", message, event);
    lsp_log(c->server,
            level == AE_WATCH_ERROR  ? LSP_LOG_ERROR
            : level == AE_WATCH_WARN ? LSP_LOG_WARNING
                                     : LSP_LOG_INFO,
            "aether: %s", message);
}

static void on_batch(void *ctx, const ae_watch_batch *b)
{
    watch_ctx *c = ctx;
    const char *what = b->full ? "full pass" : "batch";
    if (b->rc < 0) {
        fprintf(c->log, "aetherd: watch: %s failed: %s (retried)\n", what,
                b->error ? b->error : "?");
        lsp_log(c->server, LSP_LOG_ERROR, "aether: indexing %s failed: %s (retried)", what,
                b->error ? b->error : "?");
        return;
    }
    size_t changed = b->symbols_added + b->symbols_removed + b->symbols_updated;
    fprintf(c->log, "aetherd: indexed (%s): %zu files, %zu symbols changed, %zu SIRs written\n",
            what, b->files, changed, b->sirs_written);
    lsp_log(c->server, LSP_LOG_INFO,
            "aether: indexed (%s): %zu files, %zu symbols changed (+%zu -%zu ~%zu), %zu SIRs "
            "written (%zu failed) in %.0f ms",
            what, b->files, changed, b->symbols_added, b->symbols_removed, b->symbols_updated,
            b->sirs_written, b->sirs_failed, b->ms);
}

int lsp_run(ae_workspace *ws, const lsp_run_options *o)
{
    signal(SIGPIPE, SIG_IGN);
    FILE *log = o->log ? o->log : stderr;
    lsp_backend be = lsp_workspace_backend(ws);
    lsp_server s;
    int out_fd = o->out_fd;
    lsp_server_init(&s, &be, send_frame, &out_fd, o->version);

    ae_watch *w = NULL;
    watch_ctx wc = {.server = &s, .log = log};
    if (o->index) {
        ae_watch_options wo = {.debounce_ms = o->debounce_ms, .poll_ms = o->poll_ms};
        ae_watch_callbacks cb = {.notice = on_notice, .batch = on_batch, .ctx = &wc};
        ae_error err;
        if (ae_watch_open(ws, &wo, &cb, &w, &err) < 0) {
            fprintf(log, "aetherd: --index: the watcher did not start: %s; serving without it\n",
                    err.message);
            w = NULL;
        }
    }

    lsp_framer f;
    lsp_framer_init(&f, LSP_DEFAULT_MAX_BODY);
    int status = -1;
    while (status < 0) {
        struct pollfd fds[2] = {{.fd = o->in_fd, .events = POLLIN},
                                {.fd = w ? ae_watch_fd(w) : -1, .events = POLLIN}};
        if (poll(fds, w ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            fprintf(log, "aetherd: poll: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (fds[0].revents) status = client_bytes(&s, &f, o->in_fd, log);
        if (status < 0 && w && (fds[1].revents & POLLIN)) {
            ae_error err;
            if (ae_watch_step(w, &err) < 0) {
                fprintf(log, "aetherd: the watcher stopped: %s; serving without it\n", err.message);
                lsp_log(&s, LSP_LOG_ERROR, "aether: the watcher stopped: %s", err.message);
                ae_watch_close(w);
                w = NULL;
            }
        }
    }
    ae_watch_close(w);
    lsp_framer_free(&f);
    lsp_server_free(&s);
    return status;
}
