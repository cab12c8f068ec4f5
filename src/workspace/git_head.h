/* The commit a workspace is at: git HEAD, read from the repository's files (no git process).
 *
 * Handles a .git directory or a .git file ("gitdir: ..." of worktrees and submodules) in the
 * workspace or any parent, a detached HEAD, symbolic refs (followed up to 5 levels), loose refs
 * in the worktree's or the common directory (the "commondir" file), and packed-refs.  Not
 * handled, answered as "no commit": the reftable ref backend (git >= 2.45 with
 * extensions.refStorage = reftable), $GIT_DIR set outside the tree.  An unborn branch (a repo
 * without commits) also has no commit. */
#ifndef AE_WORKSPACE_GIT_HEAD_H
#define AE_WORKSPACE_GIT_HEAD_H

#include <stdbool.h>

#define AE_GIT_HASH_MAX 64 /* SHA-256 repositories; SHA-1 ones have 40 hex digits */

/* out receives the lowercase hex of HEAD's commit and true, or "" and false outside git or
 * when HEAD cannot be resolved.  dir is an absolute directory.  Never fails: what cannot be
 * read is "no commit". */
bool ae_git_head(const char *dir, char out[AE_GIT_HASH_MAX + 1]);

#endif
