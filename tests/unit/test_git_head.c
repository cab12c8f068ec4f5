/* ae_git_head against `git rev-parse HEAD` in real repositories: loose and packed refs, a
 * subdirectory, a detached HEAD, a linked worktree, a .git file with a relative gitdir, an
 * unborn branch, and a directory outside git. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workspace/git_head.h"

static char dir[] = "/tmp/ae-test-git-head-XXXXXX";

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[2300];
    snprintf(full, sizeof full,
             "cd %s && export GIT_CONFIG_NOSYSTEM=1 HOME=%s GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e "
             "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e && (%s) >/dev/null 2>&1",
             dir, dir, cmd);
    if (system(full) != 0) fail_msg("command failed: %s", cmd);
}

/* git's own answer for path ("" when it has none). */
static void rev_parse(const char *path, char out[AE_GIT_HASH_MAX + 1])
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s/%s && git rev-parse --verify -q HEAD 2>/dev/null", dir, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    if (!fgets(out, AE_GIT_HASH_MAX + 1, p)) out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

static void same_as_git(const char *path)
{
    char want[AE_GIT_HASH_MAX + 1], got[AE_GIT_HASH_MAX + 1], abs[512];
    rev_parse(path, want);
    snprintf(abs, sizeof abs, "%s/%s", dir, path);
    bool found = ae_git_head(abs, got);
    assert_int_equal(strlen(want), 40);
    assert_true(found);
    assert_string_equal(got, want);
}

static void test_repositories(void **state)
{
    sh("git init -q -b main repo && cd repo && mkdir -p src/deep && echo a > src/deep/a.c && "
       "git add -A && git commit -qm one");
    same_as_git("repo");
    same_as_git("repo/src/deep"); /* the workspace may be a subdirectory */
    /* packed refs only */
    sh("cd repo && echo b > b.c && git add -A && git commit -qm two && git pack-refs --all && "
       "test ! -e .git/refs/heads/main");
    same_as_git("repo");
    /* a loose ref newer than the packed one wins */
    sh("cd repo && echo c > c.c && git add -A && git commit -qm three");
    same_as_git("repo");
    /* detached */
    sh("cd repo && git checkout -q --detach HEAD~1");
    same_as_git("repo");
    sh("cd repo && git checkout -q main");
    /* a linked worktree on another branch (its HEAD in .git/worktrees/, refs in the common dir) */
    sh("cd repo && git branch side HEAD~2 && git worktree add -q ../wt side");
    same_as_git("wt");
    char a[AE_GIT_HASH_MAX + 1], b[AE_GIT_HASH_MAX + 1];
    rev_parse("repo", a);
    rev_parse("wt", b);
    assert_string_not_equal(a, b);
    /* a .git file with a relative gitdir (submodules write these) */
    sh("git init -q -b main sub && cd sub && echo x > x && git add -A && git commit -qm s && "
       "mv .git ../sub.git && echo 'gitdir: ../sub.git' > .git");
    same_as_git("sub");
}

static void test_no_commit(void **state)
{
    char out[AE_GIT_HASH_MAX + 1] = "junk", abs[512];
    sh("git init -q -b main empty && mkdir plain");
    snprintf(abs, sizeof abs, "%s/empty", dir);
    assert_false(ae_git_head(abs, out)); /* unborn branch */
    assert_string_equal(out, "");
    snprintf(abs, sizeof abs, "%s/plain", dir);
    assert_false(ae_git_head(abs, out)); /* outside git (mkdtemp under /tmp) */
    assert_string_equal(out, "");
    /* a HEAD that is not a hash nor a ref */
    sh("git init -q -b main bad && echo garbage > bad/.git/HEAD");
    snprintf(abs, sizeof abs, "%s/bad", dir);
    assert_false(ae_git_head(abs, out));
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repositories),
        cmocka_unit_test(test_no_commit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
