/* Verification commands (include/aether/checks.h, reference-contract section 5).  What is
 * unusual here:
 *
 * 1. Nothing runs unless every requested command is on the allow-list: the check happens
 *    before the first fork, so a refused request has no side effect at all.
 * 2. Each command runs in its own process group (setpgid in the child), so the timeout kills
 *    the whole tree (`sh -lc 'sleep 100 & wait'`), not just the shell.
 * 3. Output is read with poll() from both pipes until both close; past the cap the bytes are
 *    read and dropped, so a chatty command can neither block on a full pipe nor grow memory.
 * 4. "Unavailable" means the mode's runtime is not an executable on PATH (or the microvm is
 *    not configured); the fallback flags then move the run to the next mode and
 *    fallback_reason says why. */
#include <aether/checks.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "util/mem.h"
#include "workspace/workspace.h"

static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return ae_strndup(s, n);
}

/* An executable named `name` on PATH (or the path itself when it has a '/'). */
static bool on_path(const char *name)
{
    if (!name || !*name) return false;
    if (strchr(name, '/')) return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        const char *e = strchr(path, ':');
        size_t n = e ? (size_t)(e - path) : strlen(path);
        char full[4096];
        if (n && n + strlen(name) + 2 < sizeof full) {
            snprintf(full, sizeof full, "%.*s/%s", (int)n, path, name);
            struct stat sb;
            if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && access(full, X_OK) == 0) return true;
        }
        path += n + (e ? 1 : 0);
    }
    return false;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct capture {
    ae_buf buf;
    size_t cap;
    bool truncated;
} capture;

static int take(int fd, capture *c)
{
    char tmp[8192];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r <= 0) return r < 0 && errno == EINTR ? 1 : 0;
    size_t keep = c->buf.len < c->cap ? c->cap - c->buf.len : 0;
    if ((size_t)r > keep) c->truncated = true;
    if (keep && ae_buf_append(&c->buf, tmp, (size_t)r < keep ? (size_t)r : keep) < 0) return -1;
    return 1;
}

/* Runs argv in dir; fills cmd's outcome. */
static int run_one(char *const argv[], const char *dir, int timeout_secs, size_t cap,
                   ae_verify_command *cmd, ae_error *err)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe(po) < 0 || pipe(pe) < 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0) close(po[i]);
            if (pe[i] >= 0) close(pe[i]);
        }
        return ae_fail_errno(err, e, "verify: pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return ae_fail_errno(err, e, "verify: fork");
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL); /* aether-mcp ignores it; the command should not */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        if (chdir(dir) != 0) _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    close(po[1]);
    close(pe[1]);
    capture out = {{0}, cap, false}, errc = {{0}, cap, false};
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int64_t deadline = now_ms() + (int64_t)timeout_secs * 1000;
    int open_fds = 2, rc = 0;
    while (open_fds > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0 && !cmd->timed_out) {
            cmd->timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        int n = poll(fds, 2, cmd->timed_out ? 1000 : (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int t = take(fds[i].fd, i ? &errc : &out);
            if (t < 0) rc = ae_fail(err, AE_ENOMEM, "verify: output of %s", cmd->command);
            if (t <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
        if (cmd->timed_out && n == 0) break; /* pipes held open by an escaped grandchild */
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (cmd->timed_out) kill(-pid, SIGKILL); /* anything left in the group */
    cmd->exited = WIFEXITED(status);
    cmd->exit_code = cmd->exited ? WEXITSTATUS(status) : -1;
    cmd->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    cmd->stdout_text = out.buf.data ? out.buf.data : ae_strdup("");
    cmd->stderr_text = errc.buf.data ? errc.buf.data : ae_strdup("");
    cmd->stdout_truncated = out.truncated;
    cmd->stderr_truncated = errc.truncated;
    cmd->passed = cmd->exited && cmd->exit_code == 0 && !cmd->timed_out;
    if (!cmd->stdout_text || !cmd->stderr_text) rc = ae_fail(err, AE_ENOMEM, "verify: output");
    return rc;
}

typedef enum { M_HOST, M_CONTAINER, M_MICROVM } vmode;
static const char *const MODE_NAMES[] = {"host", "container", "microvm"};

static int parse_mode(const char *s, vmode *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, MODE_NAMES[i])) {
            *out = (vmode)i;
            return 0;
        }
    return -1;
}

static char *set_error(ae_verify_result *r, const char *fmt, ...) AE_PRINTF(2, 3);
static char *set_error(ae_verify_result *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->error);
    r->error = ae_strdup(msg);
    return r->error;
}

int ae_workspace_verify(ae_workspace *ws, const ae_verify_request *req, ae_verify_result **out,
                        ae_error *err)
{
    *out = NULL;
    const ae_config *c = &ws->config;
    vmode mode;
    const char *mode_s = req && req->mode ? req->mode : c->verify.mode;
    if (parse_mode(mode_s ? mode_s : "host", &mode) < 0)
        return ae_fail(err, AE_EINVAL,
                       "verify mode \"%.32s\" is not supported; accepted: host, container, microvm",
                       mode_s);
    ae_verify_result *r = calloc(1, sizeof *r);
    if (!r) return ae_fail(err, AE_ENOMEM, "verify result");
    int rc = 0;
    r->workspace = ae_strdup(ws->root);
    snprintf(r->mode_requested, sizeof r->mode_requested, "%s", MODE_NAMES[mode]);
    r->timeout_secs = c->verify.timeout_secs;
    r->max_output_bytes = (size_t)c->verify.max_output_bytes;
    for (size_t i = 0; i < c->verify.commands.len; i++) {
        char *t = trim_dup(c->verify.commands.items[i]);
        if (!t) AE_FAIL(err, AE_ENOMEM, "verify");
        if (*t)
            AE_CHECK(ae_strlist_push_owned(&r->allowlisted, t));
        else
            free(t);
    }
    size_t nreq = req && req->commands ? req->n_commands : 0;
    for (size_t i = 0; i < nreq; i++) {
        char *t = trim_dup(req->commands[i] ? req->commands[i] : "");
        if (!t) AE_FAIL(err, AE_ENOMEM, "verify");
        if (*t)
            AE_CHECK(ae_strlist_push_owned(&r->requested, t));
        else
            free(t);
    }
    const ae_strlist *run = r->requested.len ? &r->requested : &r->allowlisted;
    if (!r->allowlisted.len) {
        set_error(r,
                  "no verification commands are configured: add them to the allow-list in "
                  "%s, e.g. [verify] commands = [\"make test\"] (docs/VERIFY.md)",
                  ws->config_path);
        goto done;
    }
    for (size_t i = 0; i < r->requested.len; i++) {
        bool ok = false;
        for (size_t j = 0; j < r->allowlisted.len && !ok; j++)
            ok = !strcmp(r->requested.items[i], r->allowlisted.items[j]);
        if (!ok) {
            set_error(r, "command is not on the [verify] allow-list: \"%.200s\" (nothing was run)",
                      r->requested.items[i]);
            goto done;
        }
    }

    /* Resolve the mode, with fallbacks. */
    bool fb_host_c = req && req->fallback_host >= 0
                         ? req->fallback_host
                         : c->verify.container.fallback_to_host_on_unavailable;
    bool fb_host_m = req && req->fallback_host >= 0
                         ? req->fallback_host
                         : c->verify.microvm.fallback_to_host_on_unavailable;
    bool fb_cont_m = req && req->fallback_container >= 0
                         ? req->fallback_container
                         : c->verify.microvm.fallback_to_container_on_unavailable;
    char reason[512] = "";
    if (mode == M_MICROVM) {
        const char *why = !c->verify.microvm.kernel_image || !c->verify.microvm.rootfs_image
                              ? "kernel_image and rootfs_image are not configured in "
                                "[verify.microvm]"
                              : "running commands in a microvm is not supported by this build";
        snprintf(reason, sizeof reason, "microvm mode is unavailable: %s", why);
        if (fb_cont_m)
            mode = M_CONTAINER;
        else if (fb_host_m)
            mode = M_HOST;
        else {
            set_error(r, "%s", reason);
            goto done;
        }
    }
    if (mode == M_CONTAINER) {
        const char *rt = c->verify.container.runtime;
        const char *why = NULL;
        char buf[300];
        if (!on_path(rt)) {
            snprintf(buf, sizeof buf, "container runtime '%.100s' is not installed (not on PATH)",
                     rt ? rt : "");
            why = buf;
        } else if (!c->verify.container.image) {
            why = "no image is configured in [verify.container]";
        }
        if (why) {
            size_t used = strlen(reason);
            snprintf(reason + used, sizeof reason - used, "%scontainer mode is unavailable: %s",
                     used ? "; " : "", why);
            if (fb_host_c || (r->mode_requested[0] == 'm' && fb_host_m)) {
                mode = M_HOST;
            } else {
                set_error(r, "%s", reason);
                goto done;
            }
        }
    }
    if (reason[0]) r->fallback_reason = ae_strdup(reason);
    snprintf(r->mode_used, sizeof r->mode_used, "%s", MODE_NAMES[mode]);

    r->results = ae_calloc_array(run->len, sizeof *r->results);
    if (!r->results) AE_FAIL(err, AE_ENOMEM, "verify results");
    r->passed = true;
    for (size_t i = 0; i < run->len; i++) {
        ae_verify_command *cmd = &r->results[r->n++];
        cmd->command = ae_strdup(run->items[i]);
        if (!cmd->command) AE_FAIL(err, AE_ENOMEM, "verify");
        char vol[8192];
        const char *wd = c->verify.container.workdir ? c->verify.container.workdir : "/workspace";
        snprintf(vol, sizeof vol, "%s:%s", ws->root, wd);
        char *host_argv[] = {(char *)"sh", (char *)"-lc", cmd->command, NULL};
        char *cont_argv[] = {c->verify.container.runtime,
                             (char *)"run",
                             (char *)"--rm",
                             (char *)"-w",
                             (char *)wd,
                             (char *)"-v",
                             vol,
                             c->verify.container.image,
                             (char *)"sh",
                             (char *)"-lc",
                             cmd->command,
                             NULL};
        AE_CHECK(run_one(mode == M_CONTAINER ? cont_argv : host_argv, ws->root,
                         c->verify.timeout_secs, (size_t)c->verify.max_output_bytes, cmd, err));
        if (!cmd->passed) {
            r->passed = false;
            if (cmd->timed_out)
                set_error(r, "command timed out after %d s and was killed: %.200s",
                          c->verify.timeout_secs, cmd->command);
            else if (!cmd->exited)
                set_error(r, "command killed by signal %d: %.200s", cmd->signal, cmd->command);
            else
                set_error(r, "command failed with exit code %d: %.200s", cmd->exit_code,
                          cmd->command);
            break;
        }
    }
done:
    if (r->error && !r->n) r->passed = false;
    *out = r;
    return 0;
cleanup:
    ae_verify_result_free(r);
    return rc;
}

void ae_verify_result_free(ae_verify_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->results[i].command);
        free(r->results[i].stdout_text);
        free(r->results[i].stderr_text);
    }
    free(r->results);
    free(r->workspace);
    free(r->fallback_reason);
    free(r->error);
    ae_strlist_free(&r->allowlisted);
    ae_strlist_free(&r->requested);
    free(r);
}

static json_t *strs(const ae_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->len; i++)
        json_array_append_new(a, json_string(l->items[i]));
    return a;
}

char *ae_verify_result_json(const ae_verify_result *r)
{
    json_t *res = json_array();
    for (size_t i = 0; res && i < r->n; i++) {
        const ae_verify_command *c = &r->results[i];
        json_array_append_new(
            res, json_pack("{s:s, s:o, s:s, s:s, s:b, s:b, s:b, s:b}", "command", c->command,
                           "exit_code", c->exited ? json_integer(c->exit_code) : json_null(),
                           "stdout", c->stdout_text, "stderr", c->stderr_text, "passed", c->passed,
                           "timed_out", c->timed_out, "stdout_truncated", c->stdout_truncated,
                           "stderr_truncated", c->stderr_truncated));
    }
    json_t *o = json_pack(
        "{s:i, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:I, s:o, s:i, s:I}", "schema_version",
        1, "workspace", r->workspace ? r->workspace : "", "mode", r->mode_requested,
        "mode_requested", r->mode_requested, "mode_used",
        r->mode_used[0] ? json_string(r->mode_used) : json_null(), "fallback_reason",
        r->fallback_reason ? json_string(r->fallback_reason) : json_null(), "allowlisted_commands",
        strs(&r->allowlisted), "requested_commands", strs(&r->requested), "passed", r->passed,
        "error", r->error ? json_string(r->error) : json_null(), "result_count", (json_int_t)r->n,
        "results", res ? res : json_array(), "timeout_secs", r->timeout_secs, "max_output_bytes",
        (json_int_t)r->max_output_bytes);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}
