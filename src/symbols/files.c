/* Listing a workspace's source files.
 *
 * 1. In a git work tree git decides (tracked + untracked-not-ignored), so .gitignore,
 *    .git/info/exclude and the global excludes hold exactly as for the user.  When git is
 *    missing or root is not in a work tree, a directory walk with a fixed skip list is used.
 * 2. Both paths end in the same filter: supported extension, regular file (or a symlink
 *    resolving to one inside root), not binary.  Symlinked directories are never followed,
 *    so the walk cannot loop.
 * 3. The result is sorted bytewise and de-duplicated (git lists an unmerged path once per
 *    stage). */
#include "symbols/files.h"

#include "lang/lang.h"
#include "symbols/internal.h"
#include "util/err.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_BINARY_PROBE 8192

/* The extensions are the language table's (src/lang/lang.c). */
const char *ae_language_for_path(const char *path)
{
    const lang_info *l = lang_for_path(path);
    return l ? l->name : NULL;
}

static bool is_binary(int fd)
{
    char buf[FILES_BINARY_PROBE];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    return memchr(buf, '\0', n) != NULL;
}

/* Is root/rel a source file we keep?  real_root is root's canonical path. */
static bool keep_file(const char *root, const char *real_root, const char *rel)
{
    if (!ae_language_for_path(rel)) return false;
    char *full = ae_path_join(root, rel);
    if (!full) return false;
    bool keep = false;
    struct stat st;
    if (lstat(full, &st) < 0) goto done;
    if (S_ISLNK(st.st_mode)) {
        char *real = realpath(full, NULL);
        size_t n = strlen(real_root);
        bool inside = real && strncmp(real, real_root, n) == 0 &&
                      (real[n] == '/' || (n == 1 && real_root[0] == '/'));
        free(real);
        if (!inside || stat(full, &st) < 0) goto done;
    }
    if (!S_ISREG(st.st_mode)) goto done;
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) goto done;
    keep = !is_binary(fd);
    close(fd);
done:
    free(full);
    return keep;
}

bool ae_workspace_skip_dir(const char *name)
{
    return strcmp(name, ".git") == 0 || strcmp(name, ".aether") == 0 ||
           strcmp(name, "node_modules") == 0 || strcmp(name, "target") == 0 ||
           strcmp(name, "build") == 0 || strncmp(name, "build-", 6) == 0;
}

/* Collects candidate paths under root/rel (rel "" for root itself). */
static int walk(const char *root, const char *rel, int depth, ae_strlist *out, ae_error *err)
{
    if (depth > 256) return 0;
    char *dir_path = rel[0] ? ae_path_join(root, rel) : ae_strdup(root);
    if (!dir_path) return ae_fail(err, AE_ENOMEM, "out of memory listing %s", root);
    DIR *d = opendir(dir_path);
    if (!d) {
        int e = errno;
        free(dir_path);
        if (depth == 0) return ae_fail_errno(err, e, "open workspace directory %s", root);
        return 0; /* an unreadable subdirectory is not fatal */
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        char *child = rel[0] ? ae_asprintf("%s/%s", rel, name) : ae_strdup(name);
        if (!child) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory listing %s", root);
            break;
        }
        unsigned char type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            char *full = ae_path_join(root, child);
            type = DT_REG;
            if (full && lstat(full, &st) == 0)
                type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
            free(full);
        }
        if (type == DT_DIR) {
            if (!ae_workspace_skip_dir(name)) rc = walk(root, child, depth + 1, out, err);
            free(child);
        } else if (ae_language_for_path(name)) {
            rc = ae_strlist_push_owned(out, child);
            if (rc < 0) ae_fail(err, rc, "out of memory listing %s", root);
        } else {
            free(child);
        }
        if (rc < 0) break;
    }
    closedir(d);
    free(dir_path);
    return rc;
}

typedef struct git_ctx {
    ae_strlist *out;
} git_ctx;

static int on_git_path(const char *rec, size_t len, void *ctx)
{
    git_ctx *g = ctx;
    if (len == 0) return 0;
    char *p = ae_strndup(rec, len);
    if (!p) return AE_ENOMEM;
    if (!ae_language_for_path(p)) {
        free(p);
        return 0;
    }
    return ae_strlist_push_owned(g->out, p);
}

static int on_probe(const char *rec, size_t len, void *ctx)
{
    if (len == 4 && memcmp(rec, "true", 4) == 0) *(bool *)ctx = true;
    return 0;
}

bool ae_workspace_in_git(const char *root)
{
    const char *probe[] = {"git", "-C", root, "rev-parse", "--is-inside-work-tree", NULL};
    int status;
    bool inside = false;
    return proc_run(probe, NULL, NULL, 0, '\n', on_probe, &inside, &status, NULL, NULL) == 0 &&
           status == 0 && inside;
}

#define GIT_PATHSPECS_PER_CALL 256

/* git ls-files over the work tree, or over pathspecs (literal, workspace-relative) when given. */
static int ls_files(const char *root, const char *const *specs, size_t n_specs, ae_strlist *out,
                    ae_error *err)
{
    const char *base[] = {"git", "-C",       root,       "--literal-pathspecs", "ls-files",
                          "-z",  "--cached", "--others", "--exclude-standard"};
    enum { N_BASE = sizeof base / sizeof base[0] };
    const char **argv = calloc(N_BASE + 2 + n_specs, sizeof *argv);
    if (!argv) return ae_fail(err, AE_ENOMEM, "out of memory listing %s", root);
    memcpy(argv, base, sizeof base);
    size_t k = N_BASE;
    if (n_specs) {
        argv[k++] = "--";
        for (size_t i = 0; i < n_specs; i++)
            argv[k++] = specs[i];
    }
    argv[k] = NULL;
    int status;
    ae_buf errout = {0};
    git_ctx g = {out};
    int rc = proc_run(argv, NULL, NULL, 0, '\0', on_git_path, &g, &status, &errout, err);
    free(argv);
    if (rc == 0 && status != 0) {
        while (errout.len && (errout.data[errout.len - 1] == '\n'))
            errout.data[--errout.len] = 0;
        rc = ae_fail(err, AE_EEXTERNAL, "git -C %s ls-files exited with status %d: %s", root,
                     status, errout.data ? errout.data : "");
    } else if (rc == AE_ENOMEM) {
        ae_fail(err, rc, "out of memory listing %s", root);
    }
    ae_buf_free(&errout);
    return rc;
}

/* 1 when git listed the files, 0 when root is not a git work tree (or git is missing). */
static int list_git(const char *root, ae_strlist *out, ae_error *err)
{
    if (!ae_workspace_in_git(root)) return 0;
    int rc = ls_files(root, NULL, 0, out, err);
    return rc < 0 ? rc : 1;
}

/* The final filter shared by both listings: sort, de-duplicate, keep_file. */
static int keep_files(const char *root, const char *real_root, ae_strlist *cand, ae_strlist *out,
                      ae_error *err)
{
    ae_strlist_sort(cand);
    for (size_t i = 0; i < cand->len; i++) {
        if (i > 0 && strcmp(cand->items[i], cand->items[i - 1]) == 0) continue;
        if (!keep_file(root, real_root, cand->items[i])) continue;
        int rc = ae_strlist_push(out, cand->items[i]);
        if (rc < 0) return ae_fail(err, rc, "out of memory listing %s", root);
    }
    return 0;
}

/* A path the directory walk would never reach: a component it skips (a file is never named
 * like a skipped directory and also of a supported language), empty, "." or "..". */
static bool walk_skips(const char *rel)
{
    char part[NAME_MAX + 1];
    for (const char *p = rel;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len > NAME_MAX) return true;
        memcpy(part, p, len);
        part[len] = '\0';
        if (!strcmp(part, ".") || !strcmp(part, "..") || ae_workspace_skip_dir(part)) return true;
        if (!slash) return false;
        p = slash + 1;
    }
}

int ae_workspace_list_paths(const char *root, const ae_strlist *paths, ae_strlist *out,
                            ae_error *err)
{
    AE_RETURN_IF(!root || !paths || !out, err, AE_EINVAL, "workspace root and paths are required");
    AE_RETURN_IF(!ae_is_dir(root), err, AE_ENOTFOUND, "workspace %s is not a directory", root);
    for (size_t i = 0; i < paths->len; i++)
        if (!paths->items[i][0]) return ae_workspace_list_files(root, out, err);
    if (!paths->len) return 0;
    char *real_root = realpath(root, NULL);
    if (!real_root) return ae_fail_errno(err, errno, "resolve workspace %s", root);
    ae_strlist cand = {0};
    int rc = 0;
    if (ae_workspace_in_git(root)) {
        for (size_t i = 0; i < paths->len && rc == 0; i += GIT_PATHSPECS_PER_CALL) {
            size_t n =
                paths->len - i < GIT_PATHSPECS_PER_CALL ? paths->len - i : GIT_PATHSPECS_PER_CALL;
            rc = ls_files(root, (const char *const *)paths->items + i, n, &cand, err);
        }
    } else {
        for (size_t i = 0; i < paths->len && rc == 0; i++) {
            const char *rel = paths->items[i];
            if (walk_skips(rel)) continue;
            char *full = ae_path_join(root, rel);
            if (!full) {
                rc = ae_fail(err, AE_ENOMEM, "out of memory listing %s", root);
                break;
            }
            struct stat st;
            bool dir = lstat(full, &st) == 0 && S_ISDIR(st.st_mode);
            free(full);
            if (dir)
                rc = walk(root, rel, 1, &cand, err);
            else if (ae_language_for_path(rel) && (rc = ae_strlist_push(&cand, rel)) < 0)
                ae_fail(err, rc, "out of memory listing %s", root);
        }
    }
    if (rc == 0) rc = keep_files(root, real_root, &cand, out, err);
    ae_strlist_free(&cand);
    free(real_root);
    return rc;
}

int ae_workspace_list_files(const char *root, ae_strlist *out, ae_error *err)
{
    AE_RETURN_IF(!root || !out, err, AE_EINVAL, "workspace root is required");
    AE_RETURN_IF(!ae_is_dir(root), err, AE_ENOTFOUND, "workspace %s is not a directory", root);
    char *real_root = realpath(root, NULL);
    if (!real_root) return ae_fail_errno(err, errno, "resolve workspace %s", root);

    ae_strlist cand = {0};
    int rc = list_git(root, &cand, err);
    if (rc == 0) rc = walk(root, "", 0, &cand, err);
    if (rc < 0) goto cleanup;

    rc = keep_files(root, real_root, &cand, out, err);
cleanup:
    ae_strlist_free(&cand);
    free(real_root);
    return rc;
}

static int on_ignored(const char *rec, size_t len, void *ctx)
{
    if (len < 2 || rec[len - 1] != '/') return 0; /* ignored files: not directories */
    char *p = ae_strndup(rec, len - 1);
    if (!p) return AE_ENOMEM;
    return ae_strlist_push_owned(ctx, p);
}

int ae_workspace_ignored_dirs_in(const char *root, const char *rel, ae_strlist *out, ae_error *err)
{
    if (!ae_workspace_in_git(root)) return 0;
    const char *argv[] = {"git",
                          "-C",
                          root,
                          "--literal-pathspecs",
                          "ls-files",
                          "-z",
                          "--others",
                          "--ignored",
                          "--exclude-standard",
                          "--directory",
                          rel && *rel ? "--" : NULL,
                          rel,
                          NULL};
    int status;
    ae_buf errout = {0};
    int rc = proc_run(argv, NULL, NULL, 0, '\0', on_ignored, out, &status, &errout, err);
    if (rc == 0 && status != 0)
        rc = ae_fail(err, AE_EEXTERNAL, "git -C %s ls-files --ignored exited with status %d", root,
                     status);
    else if (rc == AE_ENOMEM)
        ae_fail(err, rc, "out of memory listing %s", root);
    ae_buf_free(&errout);
    if (rc == 0) ae_strlist_sort(out);
    return rc;
}

int ae_workspace_ignored_dirs(const char *root, ae_strlist *out, ae_error *err)
{
    return ae_workspace_ignored_dirs_in(root, NULL, out, err);
}
