/* aetherd --lsp: the stdio loop around the protocol layer (server.h) and the framing
 * (frame.h).  What is unusual here:
 *
 * 1. stdout is the protocol stream and nothing else writes to it; aetherd's own messages
 *    (index results, failures) go to stderr, the client's log gets window/logMessage.
 * 2. SIGPIPE is ignored: a client that goes away makes a write fail, and the loop ends with
 *    status 1 instead of the process dying mid-write.
 * 3. --index: one incremental pass runs before the first message is read (the watcher of
 *    issue #12 takes over from there once it lands; docs/LSP.md). */
#include "lsp/lsp.h"

#include <errno.h>
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

static int index_once(ae_workspace *ws, FILE *log)
{
    ae_index_stats st;
    ae_error err;
    int rc = ae_workspace_index(ws, NULL, &st, &err);
    size_t n;
    const char *const *notes = ae_workspace_notices(ws, &n);
    for (size_t i = 0; i < n; i++)
        fprintf(log, "aetherd: note: %s\n", notes[i]);
    if (rc < 0) {
        fprintf(log, "aetherd: indexing failed: %s\n", err.message);
        return rc;
    }
    fprintf(log,
            "aetherd: indexed %zu files (%zu changed, %zu removed): %zu symbols, %zu SIRs "
            "written (%zu failed) in %.2fs\n",
            st.files_seen, st.files_changed, st.files_removed, st.symbols_total, st.sirs_written,
            st.sirs_failed, st.seconds);
    return 0;
}

int lsp_run(ae_workspace *ws, const lsp_run_options *o)
{
    signal(SIGPIPE, SIG_IGN);
    FILE *log = o->log ? o->log : stderr;
    if (o->index && index_once(ws, log) < 0) return 1;

    lsp_backend be = lsp_workspace_backend(ws);
    lsp_server s;
    int out_fd = o->out_fd;
    lsp_server_init(&s, &be, send_frame, &out_fd, o->version);
    lsp_framer f;
    lsp_framer_init(&f, LSP_DEFAULT_MAX_BODY);
    static char buf[1 << 16];
    int status = -1;
    while (status < 0) {
        ssize_t n = read(o->in_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n < 0) fprintf(log, "aetherd: reading the client: %s\n", strerror(errno));
            status = lsp_server_eof_status(&s);
            break;
        }
        if (lsp_framer_feed(&f, buf, (size_t)n) < 0) {
            fprintf(log, "aetherd: out of memory reading a message\n");
            status = 1;
            break;
        }
        const char *body;
        size_t len;
        lsp_frame_event ev;
        while (status < 0 && (ev = lsp_framer_next(&f, &body, &len)) != LSP_FRAME_NEED_MORE) {
            int rc = ev == LSP_FRAME_MESSAGE ? lsp_handle_message(&s, body, len)
                                             : lsp_handle_frame_error(&s, f.error);
            if (rc < 0) {
                fprintf(log, "aetherd: %s\n",
                        rc == AE_ENOMEM ? "out of memory answering a message"
                                        : "writing to the client failed");
                status = 1;
            } else if (lsp_server_exited(&s, &rc)) {
                status = rc;
            }
        }
    }
    lsp_framer_free(&f);
    lsp_server_free(&s);
    return status;
}
