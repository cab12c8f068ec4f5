/* Running ctags and git as child processes without a shell.
 *
 * 1. stdin, stdout and stderr are pumped together with poll(): ctags starts writing tags
 *    before it has read its whole file list, so writing the list first could deadlock on a
 *    full pipe.
 * 2. An exec failure is reported through a close-on-exec pipe, so "ctags is not installed"
 *    is told apart from "ctags exited 127".
 * 3. A child that exits before reading all its input would make our write() raise SIGPIPE
 *    and kill the host program: SIGPIPE is blocked in this thread while we write, and a
 *    SIGPIPE we caused is consumed with sigtimedwait() before the mask is restored. */
#include "symbols/internal.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_STDERR_MAX 4096

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static int wait_child(pid_t pid, int *status)
{
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (WIFEXITED(st))
        *status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        *status = 128 + WTERMSIG(st);
    else
        *status = 255;
    return 0;
}

/* Delivers every complete record in *acc to the callback and keeps the tail. */
static int flush_records(ae_buf *acc, char delim, bool final, proc_record_fn fn, void *ctx)
{
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; i < acc->len; i++) {
        if (acc->data[i] != delim) continue;
        rc = fn(acc->data + start, i - start, ctx);
        start = i + 1;
        if (rc < 0) break;
    }
    if (rc >= 0 && final && start < acc->len) {
        rc = fn(acc->data + start, acc->len - start, ctx);
        start = acc->len;
    }
    memmove(acc->data, acc->data + start, acc->len - start);
    acc->len -= start;
    if (acc->data) acc->data[acc->len] = '\0';
    return rc < 0 ? rc : 0;
}

int proc_run(const char *const argv[], const char *cwd, const char *input, size_t input_len,
             char delim, proc_record_fn on_record, void *ctx, int *status, ae_buf *errout,
             ae_error *err)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, ex[2] = {-1, -1};
    int rc = 0;
    pid_t pid = -1;
    ae_buf acc = {0};
    *status = -1;
    sigset_t pipe_set, old_mask;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    sigset_t pending;
    sigpending(&pending);
    bool pipe_was_pending = sigismember(&pending, SIGPIPE) == 1;
    bool got_epipe = false;

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        pipe2(ex, O_CLOEXEC) < 0) {
        rc = ae_fail_errno(err, errno, "%s: pipe", argv[0]);
        goto cleanup;
    }
    pid = fork();
    if (pid < 0) {
        rc = ae_fail_errno(err, errno, "%s: fork", argv[0]);
        goto cleanup;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls from here on */
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0) _exit(127);
        int e = 0;
        if (cwd && chdir(cwd) < 0) {
            e = errno;
        } else {
            execvp(argv[0], (char *const *)argv);
            e = errno;
        }
        ssize_t w = write(ex[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&errp[1]);
    close_fd(&ex[1]);

    int child_errno = 0;
    ssize_t r;
    while ((r = read(ex[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
    }
    close_fd(&ex[0]);
    if (r == (ssize_t)sizeof child_errno) {
        int st;
        wait_child(pid, &st);
        pid = -1;
        rc = ae_fail(err, AE_EEXTERNAL, "cannot run %s%s%s: %s", argv[0], cwd ? " in " : "",
                     cwd ? cwd : "", strerror(child_errno));
        goto cleanup;
    }

    size_t written = 0;
    if (input_len == 0)
        close_fd(&in[1]);
    else
        fcntl(in[1], F_SETFL, O_NONBLOCK);
    while (out[0] >= 0 || errp[0] >= 0) {
        struct pollfd pf[3];
        int n = 0, io = -1, ie = -1, ii = -1;
        if (out[0] >= 0) pf[io = n++] = (struct pollfd){.fd = out[0], .events = POLLIN};
        if (errp[0] >= 0) pf[ie = n++] = (struct pollfd){.fd = errp[0], .events = POLLIN};
        if (in[1] >= 0) pf[ii = n++] = (struct pollfd){.fd = in[1], .events = POLLOUT};
        if (poll(pf, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            rc = ae_fail_errno(err, errno, "%s: poll", argv[0]);
            goto cleanup;
        }
        if (ii >= 0 && pf[ii].revents) {
            if (pf[ii].revents & (POLLERR | POLLHUP)) {
                close_fd(&in[1]);
            } else {
                ssize_t w = write(in[1], input + written, input_len - written);
                if (w > 0) written += (size_t)w;
                if (w < 0 && errno == EPIPE) got_epipe = true;
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input_len)
                    close_fd(&in[1]);
            }
        }
        if (io >= 0 && pf[io].revents) {
            if ((rc = ae_buf_reserve(&acc, 65536)) < 0) {
                ae_fail(err, rc, "%s: out of memory reading its output", argv[0]);
                goto cleanup;
            }
            ssize_t got = read(out[0], acc.data + acc.len, acc.cap - acc.len - 1);
            if (got > 0) {
                acc.len += (size_t)got;
                acc.data[acc.len] = '\0';
                if ((rc = flush_records(&acc, delim, false, on_record, ctx)) < 0) goto cleanup;
            } else if (got == 0 || errno != EINTR) {
                close_fd(&out[0]);
            }
        }
        if (ie >= 0 && pf[ie].revents) {
            char tmp[1024];
            ssize_t got = read(errp[0], tmp, sizeof tmp);
            if (got > 0) {
                if (errout && errout->len < PROC_STDERR_MAX)
                    ae_buf_append(errout, tmp, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close_fd(&errp[0]);
            }
        }
    }
    close_fd(&in[1]);
    if ((rc = flush_records(&acc, delim, true, on_record, ctx)) < 0) goto cleanup;
    if (wait_child(pid, status) < 0) {
        rc = ae_fail_errno(err, errno, "%s: waitpid", argv[0]);
        pid = -1;
        goto cleanup;
    }
    pid = -1;

cleanup:
    if (pid > 0) {
        int st;
        kill(pid, SIGKILL);
        wait_child(pid, &st);
    }
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&ex[0]);
    close_fd(&ex[1]);
    ae_buf_free(&acc);
    if (got_epipe && !pipe_was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return rc;
}
