/* git HEAD from the repository files (see git_head.h).
 * 1. Reading a handful of small files costs microseconds, so the pipeline resolves HEAD at the
 *    start of every pass (and every watch batch) and a branch switch is seen at once; spawning
 *    `git rev-parse HEAD` would cost milliseconds and need git installed.
 * 2. Per-worktree refs (HEAD, refs/bisect, refs/worktree, refs/rewritten) live in the worktree's
 *    git dir, every other ref in the common dir; looking in the worktree's dir first and then
 *    the common dir finds both.  Loose refs win over packed-refs, as in git. */
#include "workspace/git_head.h"

#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SYMREF_DEPTH 5
#define SMALL_FILE_MAX   4096

/* Reads a small file whole, trailing whitespace trimmed; NULL when unreadable. */
static char *read_small(const char *dir, const char *name)
{
    char *path = name ? ae_asprintf("%s/%s", dir, name) : ae_strdup(dir);
    if (!path) return NULL;
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) return NULL;
    char *buf = malloc(SMALL_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, SMALL_FILE_MAX, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

static bool is_hash(const char *s, size_t n)
{
    if (n != 40 && n != 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static bool take_hash(const char *s, char out[AE_GIT_HASH_MAX + 1])
{
    size_t n = strlen(s);
    if (!is_hash(s, n)) return false;
    memcpy(out, s, n + 1);
    return true;
}

/* A path read from a file, relative to base unless absolute. */
static char *resolve_path(const char *base, const char *p)
{
    return p[0] == '/' ? ae_strdup(p) : ae_asprintf("%s/%s", base, p);
}

/* The git dir for dir or its nearest parent that has a .git entry; NULL outside git. */
static char *find_git_dir(const char *dir)
{
    char *cur = ae_strdup(dir);
    while (cur) {
        char *dotgit = ae_asprintf("%s/.git", cur);
        struct stat sb;
        if (dotgit && stat(dotgit, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                free(cur);
                return dotgit;
            }
            char *txt = S_ISREG(sb.st_mode) ? read_small(dotgit, NULL) : NULL;
            free(dotgit);
            char *gd = txt && !strncmp(txt, "gitdir:", 7) ? txt + 7 : NULL;
            while (gd && *gd == ' ')
                gd++;
            char *out = gd && *gd ? resolve_path(cur, gd) : NULL;
            free(txt);
            free(cur);
            return out;
        }
        free(dotgit);
        char *slash = strrchr(cur, '/');
        if (!slash || slash == cur) break;
        *slash = '\0';
    }
    free(cur);
    return NULL;
}

static bool packed_ref(const char *common, const char *ref, char out[AE_GIT_HASH_MAX + 1])
{
    char *path = ae_asprintf("%s/packed-refs", common);
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '^') continue;
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        char *name = sp + 1;
        name[strcspn(name, "\r\n")] = '\0';
        if (strcmp(name, ref) != 0) continue;
        *sp = '\0';
        found = take_hash(line, out);
    }
    fclose(f);
    return found;
}

static bool resolve_ref(const char *gitdir, const char *common, const char *ref, int depth,
                        char out[AE_GIT_HASH_MAX + 1])
{
    if (depth > MAX_SYMREF_DEPTH || strstr(ref, "..") || ref[0] == '/') return false;
    char *txt = read_small(gitdir, ref);
    if (!txt && common != gitdir) txt = read_small(common, ref);
    if (!txt) return packed_ref(common, ref, out);
    bool ok;
    if (!strncmp(txt, "ref:", 4)) {
        const char *next = txt + 4;
        while (*next == ' ')
            next++;
        ok = resolve_ref(gitdir, common, next, depth + 1, out);
    } else {
        ok = take_hash(txt, out);
    }
    free(txt);
    return ok;
}

bool ae_git_head(const char *dir, char out[AE_GIT_HASH_MAX + 1])
{
    out[0] = '\0';
    char *gitdir = find_git_dir(dir);
    if (!gitdir) return false;
    char *cd = read_small(gitdir, "commondir");
    char *common = cd && *cd ? resolve_path(gitdir, cd) : gitdir;
    free(cd);
    bool ok = common && resolve_ref(gitdir, common, "HEAD", 0, out);
    if (!ok) out[0] = '\0';
    if (common != gitdir) free(common);
    free(gitdir);
    return ok;
}
