/* Which files of a workspace are source files we extract symbols from. */
#ifndef AE_SYMBOLS_FILES_H
#define AE_SYMBOLS_FILES_H

#include "util/mem.h"

#include <aether/error.h>
#include <stdbool.h>

/* Appends to *out the workspace-relative paths ('/' separators, sorted bytewise, no
 * duplicates) of the regular files under root of a supported language.  Inside a git work
 * tree the list comes from `git ls-files --cached --others --exclude-standard` (so
 * .gitignore holds); elsewhere the tree is walked, skipping .git, .aether, node_modules,
 * target, build and build-* directories.  Either way binary files (a NUL byte in the first
 * 8 KiB) and symlinks leading out of root are left out.  Caller frees *out. */
int ae_workspace_list_files(const char *root, ae_strlist *out, ae_error *err);

/* The part of ae_workspace_list_files(root) at or under the given workspace-relative paths
 * (files or directories, '/' separators, no trailing '/'; "" is the whole workspace), by the
 * same rules: inside git, `git ls-files` with the paths as literal pathspecs; elsewhere the
 * walk's skip list applied to every component.  Appends sorted, de-duplicated paths. */
int ae_workspace_list_paths(const char *root, const ae_strlist *paths, ae_strlist *out,
                            ae_error *err);

/* Directory names the walk never enters: .git, .aether, node_modules, target, build, build-*. */
bool ae_workspace_skip_dir(const char *name);
/* Is root inside a git work tree (and git installed)? */
bool ae_workspace_in_git(const char *root);
/* Inside git: the directories git ignores as a whole (`ls-files --others --ignored
 * --directory`), workspace-relative, sorted; outside git nothing.  The watcher does not
 * descend into them. */
int ae_workspace_ignored_dirs(const char *root, ae_strlist *out, ae_error *err);
/* The same for the tree at rel only (a literal pathspec; "" or NULL: the whole workspace), rel
 * itself included when git ignores it (also when it is empty): the watcher asks it for a
 * directory that appeared, so the directories git ignores in it get no watch. */
int ae_workspace_ignored_dirs_in(const char *root, const char *rel, ae_strlist *out, ae_error *err);

/* "rust", "typescript", "tsx", "javascript", "jsx", "python", "c", "cpp", "go", "java"
 * by file extension (.h is c); NULL when unsupported.  Static string. */
const char *ae_language_for_path(const char *path);

#endif
