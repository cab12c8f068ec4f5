/* The workspace writer lock (write_lock.h).
 * Notes:
 * 1. flock is released by the kernel when the holder dies, so a killed writer never leaves
 *    the workspace locked; the pid written into the file is a hint for messages only.
 * 2. The wait polls LOCK_NB every WAIT_STEP_MS: a blocking flock could not be given a bound
 *    or be stopped by the watcher's stop flag. */
#include "workspace/write_lock.h"

#include "embed/embed.h"
#include "embed/embed_model.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define WAIT_STEP_MS 20

static long holder_pid(int fd)
{
    char buf[32] = {0};
    ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
    return r > 0 ? strtol(buf, NULL, 10) : 0;
}

/* Another writer replaced the learned model since our embedder loaded it: reopen both the
 * embedder and the vector store (whose cached tables may belong to a dropped model). */
static void follow_model(ae_workspace *ws)
{
    if (!ws->embedder || !ae_embed_provider_learns(ws->config.embeddings.provider)) return;
    char *models = ae_path_join(ws->aether_dir, "models");
    char cur[AE_EMBED_MODEL_NAME_MAX + 1];
    if (models && ae_embed_model_current(models, AE_EMBED_MODEL_CURRENT, cur, NULL) == 0 &&
        strcmp(cur, ae_embedder_model(ws->embedder)) != 0) {
        ae_embedder_close(ws->embedder);
        ws->embedder = NULL;
        ae_vs_close(ws->vs);
        ws->vs = NULL;
        ws->backend_name = NULL;
    }
    free(models);
}

int ae_ws_write_begin(ae_workspace *ws, ae_error *err)
{
    if (ws->write_depth > 0) {
        ws->write_depth++;
        return 0;
    }
    if (ws->write_fd < 0) {
        char *path = ae_path_join(ws->aether_dir, AE_WS_WRITE_LOCK_FILE);
        if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
        ws->write_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        int e = errno;
        if (ws->write_fd < 0) {
            int rc = ae_fail_errno(err, e, "open %s", path);
            free(path);
            return rc;
        }
        free(path);
    }
    int64_t deadline = ae_mono_ms() + AE_WS_WRITE_WAIT_MS;
    for (;;) {
        if (flock(ws->write_fd, LOCK_EX | LOCK_NB) == 0) break;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return ae_fail_errno(err, errno, "lock %s/%s", ws->aether_dir, AE_WS_WRITE_LOCK_FILE);
        bool stopped = ws->cancel && *ws->cancel;
        if (stopped || ae_mono_ms() >= deadline) {
            long pid = holder_pid(ws->write_fd);
            const char *why = stopped ? "stopped while waiting" : "waited 600 s";
            if (pid > 0)
                return ae_fail(err, AE_EBUSY, "workspace %s is being written by pid %ld (%s)",
                               ws->root, pid, why);
            return ae_fail(err, AE_EBUSY, "workspace %s is being written by another process (%s)",
                           ws->root, why);
        }
        struct timespec ts = {0, WAIT_STEP_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(ws->write_fd, 0) < 0 || pwrite(ws->write_fd, buf, (size_t)n, 0) != n) {
        /* the pid is a hint for messages only */
    }
    ws->write_depth = 1;
    follow_model(ws);
    return 0;
}

void ae_ws_write_end(ae_workspace *ws)
{
    if (ws->write_depth <= 0 || --ws->write_depth > 0) return;
    ae_vs_release_locks(ws->vs);
    flock(ws->write_fd, LOCK_UN);
}
