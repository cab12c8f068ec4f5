/* The watcher (aether/watch.h).
 *
 * Pieces:
 *   epoll fd      what ae_watch_fd returns: the inotify fd, a timerfd armed for the next due
 *                 path (or poll scan), and an eventfd for ae_watch_wake/stop.  Level-triggered,
 *                 so it stays readable until ae_watch_step consumed what made it so.
 *   watches       wd -> workspace-relative directory, a sorted array (the kernel hands out
 *                 increasing wds; an existing wd for a re-added inode updates its path).
 *   pending       path -> last event time: a hash table over a list kept in event order, so
 *                 with one debounce for all paths the due ones are a prefix of the list and the
 *                 head gives the timer.  An event for a pending path moves it to the tail.
 *   rescan        a full incremental pass is due: the initial one, after an inotify overflow,
 *                 a watch limit, a .gitignore change, or AE_WATCH_PENDING_MAX pending paths.
 * Notes:
 * 1. Directories: a new or moved-in directory gets watches for its whole tree and is queued
 *    itself (ae_workspace_index_paths lists what is inside when the batch runs, so files that
 *    appeared before the watch existed are not missed); a deleted or moved-out one loses the
 *    watches under it and is queued (its stored files are removed).  A move within the tree
 *    is both.
 * 2. Which directories are watched: never .git or .aether; inside git not the directories git
 *    ignores (asked once per full walk, and for every directory that appears over its own tree
 *    before it gets a watch: learn_ignored); outside git not the skip list (node_modules,
 *    target, build*).  Files are queued only when their extension is a supported language; the
 *    batch applies the indexer's full rules.
 * 3. The watch limit (ENOSPC from inotify_add_watch) or no inotify at all switches to polling:
 *    a stat scan of the same tree every poll_ms, diffed against the previous scan.
 * 4. Nothing here reads or sleeps on its own: an idle watcher has its timer disarmed and
 *    blocks in the caller's poll.
 * 5. The ANN index is built in a child process (fork, no exec), never in the batch loop: once
 *    a batch left the queue empty, the vector store's policy says whether a build is due
 *    (ae_tables_index_due, cheap); if so a child opens its own handle of the vector tables,
 *    builds from the snapshot it sees and publishes with the store's protocol (the table's
 *    writer lock for one commit; rows committed meanwhile stay in the exactly-scanned tail,
 *    table_index.c), while the parent goes on with batches.  Its result comes back through a
 *    pipe in the epoll set.  The child closes every inherited descriptor (so it never keeps
 *    the watch or write lock alive), runs at a lower priority, and dies with its parent
 *    (PR_SET_PDEATHSIG); a stop kills it (its unpublished file in index/ is an orphan the next
 *    optimize removes).  One build at a time; batches committed during it make the policy ask
 *    again when it ends.
 * 6. The learned embedding model is retrained in a child process too (lancedb backend): a pass
 *    whose drift check asks for a retrain embeds with the current model and sets
 *    ws->retrain_wanted; the child then runs ae_ws_retrain (model_retrain.h: staging outside
 *    the vector store, a short publish under write.lock like any writer's) while batches go
 *    on.  The child must not inherit a live SQLite connection (SQLite keeps per-process lock
 *    and shared-memory state that a fork would copy), so meta.sqlite is closed around the fork
 *    and reopened.  No index build starts while it runs (the old model's table is about to
 *    go); when it ends the policy is asked for the new table. */
#include "embed/embed.h"
#include "embed/embed_model.h"
#include "store/table_index_policy.h"
#include "symbols/files.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/lock.h"
#include "vectors/table.h"
#include "workspace/model_retrain.h"
#include "workspace/workspace.h"
#include "workspace/write_lock.h"

#include <aether/watch.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |            \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define WATCH_DEPTH_MAX   256
#define POLL_MS_DEFAULT   1000
#define RETRY_MS_MIN      2000
#define STALE_RETRY_MIN   2000 /* files with stale SIRs are retried after this, doubling */
#define STALE_RETRY_MAX   300000
#define WATCH_LOCK_FILE   "watch.lock"
#define BUILD_LOCK_FILE   "index-build.lock" /* held by a build child for its life (note 5) */
#define BUILD_NICE        10    /* the index build child yields the cores to the batches */
#define RETRAIN_RETRY_MIN 30000 /* a failed background retrain is not tried again before this */
#define RETRAIN_RETRY_MAX 600000

typedef struct wd_entry {
    int wd;
    char *path; /* workspace-relative directory, "" for the root */
} wd_entry;

typedef struct pend {
    char *path;
    int64_t at; /* last event, ms (monotonic) */
    struct pend *prev, *next;
} pend;

/* A file seen by the polling scan. */
typedef struct poll_file {
    char *path;
    int64_t mtime_ns, size;
    uint64_t ino;
} poll_file;

struct ae_watch {
    ae_workspace *ws;
    ae_watch_options o;
    ae_watch_callbacks cb;
    ae_index_callbacks icb; /* cb.index with our `changed` in front */
    int lock_fd;
    int ep, in_fd, timer_fd, wake_fd;
    ae_watch_backend backend;
    bool in_git;
    volatile sig_atomic_t stop;
    /* watches */
    wd_entry *wds;
    size_t n_wds, cap_wds;
    ae_strlist ignored; /* directories git ignores, sorted */
    /* pending paths */
    pend **table; /* open addressing, NULL = empty; cap_table a power of two */
    size_t cap_table, n_pending;
    pend *head, *tail;
    bool rescan;
    int64_t rescan_at;
    const char *rescan_why;
    /* polling */
    poll_file *snap;
    size_t n_snap;
    int64_t next_poll;
    /* counters of the running batch (from the changed callback) */
    size_t added, removed, updated;
    /* stale SIRs: their files are queued again after a backoff (the provider may recover) */
    int64_t stale_retry_ms;
    /* the ANN index build in a child process (note 5) */
    pid_t bld_pid; /* 0: none running */
    int bld_fd;    /* its result pipe (in the epoll set), -1 */
    char bld_msg[AE_ERROR_MESSAGE_MAX + 32];
    size_t bld_len;
    double bld_t0;
    char *bld_lock_path; /* aether_dir/BUILD_LOCK_FILE */
    bool bld_again;      /* a batch committed during the build: ask the policy again after it */
    /* the learned model's retrain in a child process (note 6) */
    pid_t rt_pid; /* 0: none running */
    int rt_fd;    /* its result pipe (in the epoll set), -1 */
    char rt_msg[AE_ERROR_MESSAGE_MAX + 256];
    size_t rt_len;
    double rt_t0;
    char rt_from[AE_EMBED_MODEL_NAME_MAX + 1]; /* the model it replaces */
    int64_t rt_not_before, rt_backoff_ms;      /* after a failure */
    ae_error fatal; /* fatal.code < 0: the watcher cannot go on (ae_watch_step returns it) */
    /* test hooks (AE_TESTING only, docs/TESTING.md): a fake watch limit, fake overflows */
    size_t test_max_watches, test_overflow_every, events_read;
};

#ifdef AE_TESTING
static size_t test_hook(const char *name)
{
    const char *e = getenv(name);
    return e && *e ? (size_t)strtoull(e, NULL, 10) : 0;
}
#endif

/* ---- small helpers -------------------------------------------------------------------------- */

static void notice(ae_watch *w, ae_watch_level lv, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void notice(ae_watch *w, ae_watch_level lv, const char *event, const char *fmt, ...)
{
    if (!w->cb.notice) return;
    char buf[AE_ERROR_MESSAGE_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    w->cb.notice(w->cb.ctx, lv, event, buf);
}

static char *join_rel(const char *dir, const char *name)
{
    return dir[0] ? ae_asprintf("%s/%s", dir, name) : ae_strdup(name);
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (!n) return true;
    return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static const char *base_name(const char *rel)
{
    const char *s = strrchr(rel, '/');
    return s ? s + 1 : rel;
}

/* ---- the watch lock ------------------------------------------------------------------------- */

static int take_lock(ae_watch *w, ae_error *err)
{
    char *path = ae_path_join(w->ws->aether_dir, WATCH_LOCK_FILE);
    if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int rc = ae_fail_errno(err, errno, "open %s", path);
        free(path);
        return rc;
    }
    free(path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char buf[32] = {0};
        ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
        long pid = r > 0 ? strtol(buf, NULL, 10) : 0;
        close(fd);
        if (e != EWOULDBLOCK)
            return ae_fail_errno(err, e, "lock %s/%s", w->ws->aether_dir, WATCH_LOCK_FILE);
        if (pid > 0)
            return ae_fail(err, AE_EBUSY, "workspace %s is already watched by pid %ld", w->ws->root,
                           pid);
        return ae_fail(err, AE_EBUSY, "workspace %s is already watched by another process",
                       w->ws->root);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        /* the pid is a hint for the message of a second watcher only */
    }
    w->lock_fd = fd;
    return 0;
}

/* ---- the timer and the wake-up -------------------------------------------------------------- */

void ae_watch_wake(ae_watch *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof one);
    (void)r;
}

void ae_watch_stop(ae_watch *w)
{
    w->stop = 1;
    ae_watch_wake(w);
}

static void drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) > 0) {
    }
}

/* The next moment step has work: the oldest pending path's due time, a rescan, a poll. */
static int64_t next_due(const ae_watch *w)
{
    int64_t due = -1;
    if (w->head) due = w->head->at + w->o.debounce_ms;
    if (w->rescan && (due < 0 || w->rescan_at < due)) due = w->rescan_at;
    if (w->backend == AE_WATCH_POLL && (due < 0 || w->next_poll < due)) due = w->next_poll;
    return due;
}

static void arm_timer(ae_watch *w)
{
    struct itimerspec its = {0};
    int64_t due = next_due(w);
    if (due >= 0) {
        if (due < 1) due = 1; /* 0 would disarm */
        its.it_value.tv_sec = due / 1000;
        its.it_value.tv_nsec = (due % 1000) * 1000000;
    }
    timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- pending paths -------------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static pend **slot_of(ae_watch *w, const char *path)
{
    size_t mask = w->cap_table - 1, i = (size_t)hash_str(path) & mask;
    while (w->table[i] && strcmp(w->table[i]->path, path))
        i = (i + 1) & mask;
    return &w->table[i];
}

static int grow_table(ae_watch *w)
{
    size_t cap = w->cap_table ? w->cap_table * 2 : 256;
    pend **old = w->table;
    size_t old_cap = w->cap_table;
    w->table = calloc(cap, sizeof *w->table);
    if (!w->table) {
        w->table = old;
        return AE_ENOMEM;
    }
    w->cap_table = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i]) *slot_of(w, old[i]->path) = old[i];
    free(old);
    return 0;
}

static void list_unlink(ae_watch *w, pend *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        w->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        w->tail = p->prev;
    p->prev = p->next = NULL;
}

/* Inserts p by its time: after the last entry not later than it.  Events come in time order,
 * so this is the tail but for retries (queued with a time of their own). */
static void list_append(ae_watch *w, pend *p)
{
    pend *after = w->tail;
    while (after && after->at > p->at)
        after = after->prev;
    p->prev = after;
    p->next = after ? after->next : w->head;
    if (p->next)
        p->next->prev = p;
    else
        w->tail = p;
    if (after)
        after->next = p;
    else
        w->head = p;
}

/* Removes p from the table (backward-shift deletion keeps probe chains intact). */
static void table_remove(ae_watch *w, pend *p)
{
    size_t mask = w->cap_table - 1;
    size_t i = (size_t)(slot_of(w, p->path) - w->table);
    w->table[i] = NULL;
    for (size_t j = (i + 1) & mask; w->table[j]; j = (j + 1) & mask) {
        pend *q = w->table[j];
        w->table[j] = NULL;
        *slot_of(w, q->path) = q;
    }
}

static void pending_clear(ae_watch *w)
{
    for (pend *p = w->head, *n; p; p = n) {
        n = p->next;
        free(p->path);
        free(p);
    }
    w->head = w->tail = NULL;
    if (w->table) memset(w->table, 0, w->cap_table * sizeof *w->table);
    w->n_pending = 0;
}

static void want_rescan(ae_watch *w, int64_t at, const char *why)
{
    if (!w->rescan || at < w->rescan_at) w->rescan_at = at;
    if (!w->rescan) w->rescan_why = why;
    w->rescan = true;
}

/* Queues rel (or moves it to the tail) with the event time now. */
static int enqueue(ae_watch *w, const char *rel, int64_t now)
{
    if (w->rescan && w->rescan_at <= now + w->o.debounce_ms) {
        /* a full pass is about to cover everything */
        w->rescan_at = now + w->o.debounce_ms;
        return 0;
    }
    if ((w->n_pending + 1) * 2 > w->cap_table && grow_table(w) < 0) return AE_ENOMEM;
    pend **s = slot_of(w, rel);
    if (*s) {
        list_unlink(w, *s);
        (*s)->at = now;
        list_append(w, *s);
        return 0;
    }
    if (w->n_pending >= AE_WATCH_PENDING_MAX) {
        notice(w, AE_WATCH_WARN, "pending_limit",
               "more than %d changed paths pending: rescanning the workspace instead",
               AE_WATCH_PENDING_MAX);
        pending_clear(w);
        want_rescan(w, now + w->o.debounce_ms, "too many pending paths");
        return 0;
    }
    pend *p = calloc(1, sizeof *p);
    if (!p || !(p->path = ae_strdup(rel))) {
        free(p);
        return AE_ENOMEM;
    }
    p->at = now;
    *s = p;
    list_append(w, p);
    w->n_pending++;
    return 0;
}

size_t ae_watch_pending(const ae_watch *w)
{
    return w->n_pending;
}

/* ---- watches -------------------------------------------------------------------------------- */

static size_t wd_find(const ae_watch *w, int wd, bool *found)
{
    size_t lo = 0, hi = w->n_wds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->wds[mid].wd < wd)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < w->n_wds && w->wds[lo].wd == wd;
    return lo;
}

static int wd_put(ae_watch *w, int wd, const char *rel)
{
    bool found;
    size_t i = wd_find(w, wd, &found);
    char *p = ae_strdup(rel);
    if (!p) return AE_ENOMEM;
    if (found) {
        free(w->wds[i].path);
        w->wds[i].path = p;
        return 0;
    }
    if (w->n_wds == w->cap_wds) {
        size_t cap = w->cap_wds ? w->cap_wds * 2 : 64;
        wd_entry *n = ae_realloc_array(w->wds, cap, sizeof *n);
        if (!n) {
            free(p);
            return AE_ENOMEM;
        }
        w->wds = n;
        w->cap_wds = cap;
    }
    memmove(&w->wds[i + 1], &w->wds[i], (w->n_wds - i) * sizeof *w->wds);
    w->wds[i] = (wd_entry){.wd = wd, .path = p};
    w->n_wds++;
    return 0;
}

static void wd_drop_at(ae_watch *w, size_t i)
{
    free(w->wds[i].path);
    memmove(&w->wds[i], &w->wds[i + 1], (w->n_wds - i - 1) * sizeof *w->wds);
    w->n_wds--;
}

/* Forgets (and removes from the kernel) every watch at or under rel. */
static void unwatch_tree(ae_watch *w, const char *rel)
{
    for (size_t i = 0; i < w->n_wds;) {
        if (under(w->wds[i].path, rel)) {
            if (w->in_fd >= 0) inotify_rm_watch(w->in_fd, w->wds[i].wd);
            wd_drop_at(w, i);
        } else {
            i++;
        }
    }
}

static void clear_watches(ae_watch *w)
{
    for (size_t i = 0; i < w->n_wds; i++)
        free(w->wds[i].path);
    w->n_wds = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Should the watcher (and the polling scan) look inside directory rel?  fresh: a directory
 * that appeared after the last full walk (the ignored list does not know it). */
static bool descend(ae_watch *w, const char *rel, bool fresh)
{
    const char *name = base_name(rel);
    if (!strcmp(name, ".git") || !strcmp(name, ".aether")) return false;
    if (!w->in_git) return !ae_workspace_skip_dir(name);
    const char *key = rel;
    (void)fresh; /* a fresh tree's ignored directories were learnt first (learn_ignored) */
    return !(w->ignored.len &&
             bsearch(&key, w->ignored.items, w->ignored.len, sizeof *w->ignored.items, cmp_str));
}

/* A directory appeared (created, moved in): inside git, the directories git ignores in its
 * tree (itself included) join the ignored list before any of it gets a watch -- the indexer's
 * rules, one git process per new tree.  If git cannot say, the tree is watched (its batches
 * still list files by the indexer's rules). */
static int learn_ignored(ae_watch *w, const char *rel)
{
    if (!w->in_git) return 0;
    ae_strlist more = {0};
    ae_error e;
    int rc = ae_workspace_ignored_dirs_in(w->ws->root, rel, &more, &e);
    for (size_t i = 0; rc == 0 && i < more.len; i++)
        rc = ae_strlist_push(&w->ignored, more.items[i]);
    if (more.len) ae_strlist_sort(&w->ignored);
    ae_strlist_free(&more);
    return rc == AE_ENOMEM ? rc : 0;
}

static int switch_to_poll(ae_watch *w, const char *event, const char *why, ae_error *err);
static int ep_add(ae_watch *w, int fd, ae_error *err);

/* Adds watches for rel and every directory below it.  A watch limit switches to polling. */
static int watch_tree(ae_watch *w, const char *rel, bool fresh, int depth, ae_error *err)
{
    if (w->backend != AE_WATCH_INOTIFY || depth > WATCH_DEPTH_MAX) return 0;
    char *full = rel[0] ? ae_path_join(w->ws->root, rel) : ae_strdup(w->ws->root);
    if (!full) return ae_fail(err, AE_ENOMEM, "out of memory");
    int wd = -1;
    if (w->test_max_watches && w->n_wds >= w->test_max_watches)
        errno = ENOSPC; /* AE_WATCH_MAX_WATCHES */
    else
        wd = inotify_add_watch(w->in_fd, full, WATCH_MASK);
    if (wd < 0) {
        int e = errno;
        free(full);
        if (e == ENOSPC)
            return switch_to_poll(w, "watch_limit",
                                  "the inotify watch limit (fs.inotify.max_user_watches) was "
                                  "reached",
                                  err);
        if (depth == 0 && !rel[0]) return ae_fail_errno(err, e, "watch %s", w->ws->root);
        return 0; /* vanished, unreadable or not a directory: nothing to watch */
    }
    if (wd_put(w, wd, rel) < 0) {
        free(full);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    DIR *d = opendir(full);
    free(full);
    if (!d) return 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        bool dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            char *c = rel[0] ? ae_asprintf("%s/%s/%s", w->ws->root, rel, de->d_name)
                             : ae_path_join(w->ws->root, de->d_name);
            dir = c && lstat(c, &st) == 0 && S_ISDIR(st.st_mode);
            free(c);
        }
        if (!dir) continue;
        char *child = join_rel(rel, de->d_name);
        if (!child) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
        if (descend(w, child, fresh)) rc = watch_tree(w, child, fresh, depth + 1, err);
        free(child);
        if (w->backend != AE_WATCH_INOTIFY) break;
    }
    closedir(d);
    return rc;
}

static int load_ignored(ae_watch *w, ae_error *err)
{
    ae_strlist_free(&w->ignored);
    w->in_git = ae_workspace_in_git(w->ws->root);
    if (!w->in_git) return 0;
    return ae_workspace_ignored_dirs(w->ws->root, &w->ignored, err);
}

/* ---- polling -------------------------------------------------------------------------------- */

static void snap_free(poll_file *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].path);
    free(s);
}

typedef struct scan {
    poll_file *f;
    size_t n, cap;
} scan;

static int scan_dir(ae_watch *w, const char *rel, int depth, scan *sc)
{
    if (depth > WATCH_DEPTH_MAX) return 0;
    char *full = rel[0] ? ae_path_join(w->ws->root, rel) : ae_strdup(w->ws->root);
    if (!full) return AE_ENOMEM;
    DIR *d = opendir(full);
    if (!d) {
        free(full);
        return 0;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *child = join_rel(rel, de->d_name);
        char *path = ae_path_join(full, de->d_name);
        struct stat st;
        if (!child || !path) {
            free(child);
            free(path);
            rc = AE_ENOMEM;
            break;
        }
        if (lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (descend(w, child, false)) rc = scan_dir(w, child, depth + 1, sc);
            } else if (ae_language_for_path(de->d_name) || !strcmp(de->d_name, ".gitignore")) {
                if (sc->n == sc->cap) {
                    size_t cap = sc->cap ? sc->cap * 2 : 256;
                    poll_file *nf = ae_realloc_array(sc->f, cap, sizeof *nf);
                    if (!nf)
                        rc = AE_ENOMEM;
                    else {
                        sc->f = nf;
                        sc->cap = cap;
                    }
                }
                if (rc == 0) {
                    sc->f[sc->n++] = (poll_file){
                        .path = child,
                        .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                        .size = st.st_size,
                        .ino = st.st_ino};
                    child = NULL;
                }
            }
        }
        free(child);
        free(path);
    }
    closedir(d);
    free(full);
    return rc;
}

static int cmp_poll(const void *a, const void *b)
{
    return strcmp(((const poll_file *)a)->path, ((const poll_file *)b)->path);
}

static int queue_changed(ae_watch *w, const char *path, int64_t now)
{
    if (!strcmp(base_name(path), ".gitignore")) {
        want_rescan(w, now + w->o.debounce_ms, "a .gitignore changed");
        return 0;
    }
    return enqueue(w, path, now);
}

/* One polling scan: every file whose (mtime, size, inode) changed, appeared or vanished since
 * the previous scan is queued.  The first scan only records. */
static int poll_scan(ae_watch *w, bool record_only, ae_error *err)
{
    scan sc = {0};
    int rc = scan_dir(w, "", 0, &sc);
    if (rc < 0) {
        snap_free(sc.f, sc.n);
        return ae_fail(err, rc, "out of memory scanning %s", w->ws->root);
    }
    if (sc.n > 1) qsort(sc.f, sc.n, sizeof *sc.f, cmp_poll);
    int64_t now = ae_mono_ms();
    size_t i = 0, j = 0;
    while (!record_only && rc == 0 && (i < w->n_snap || j < sc.n)) {
        int c = i >= w->n_snap ? 1 : j >= sc.n ? -1 : strcmp(w->snap[i].path, sc.f[j].path);
        if (c < 0) {
            rc = queue_changed(w, w->snap[i++].path, now);
        } else if (c > 0) {
            rc = queue_changed(w, sc.f[j++].path, now);
        } else {
            if (w->snap[i].mtime_ns != sc.f[j].mtime_ns || w->snap[i].size != sc.f[j].size ||
                w->snap[i].ino != sc.f[j].ino)
                rc = queue_changed(w, sc.f[j].path, now);
            i++, j++;
        }
    }
    snap_free(w->snap, w->n_snap);
    w->snap = sc.f;
    w->n_snap = sc.n;
    if (rc < 0) return ae_fail(err, rc, "out of memory queueing changed paths");
    return 0;
}

static int switch_to_poll(ae_watch *w, const char *event, const char *why, ae_error *err)
{
    if (w->in_fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, w->in_fd, NULL);
        close(w->in_fd);
        w->in_fd = -1;
    }
    clear_watches(w);
    w->backend = AE_WATCH_POLL;
    int ms = w->o.poll_ms > 0 ? w->o.poll_ms : POLL_MS_DEFAULT;
    w->o.poll_ms = ms;
    notice(w, AE_WATCH_WARN, event, "%s: watching by polling every %d ms instead", why, ms);
    want_rescan(w, ae_mono_ms(), why);
    w->next_poll = ae_mono_ms() + ms;
    return poll_scan(w, true, err);
}

/* ---- inotify events ------------------------------------------------------------------------- */

static int on_event(ae_watch *w, const struct inotify_event *ev, int64_t now, ae_error *err)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        notice(w, AE_WATCH_WARN, "overflow",
               "the inotify event queue overflowed: rescanning the workspace");
        pending_clear(w);
        want_rescan(w, now + w->o.debounce_ms, "the inotify event queue overflowed");
        AE_TRY(load_ignored(w, err));
        return watch_tree(w, "", false, 0, err); /* directories made meanwhile */
    }
    bool found;
    size_t i = wd_find(w, ev->wd, &found);
    if (!found) return 0;
    if (ev->mask & IN_IGNORED) {
        wd_drop_at(w, i);
        return 0;
    }
    const char *dir = w->wds[i].path;
    if (!ev->len || !ev->name[0]) {
        if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && !dir[0])
            return ae_fail(err, AE_ENOTFOUND, "the workspace root %s was deleted or moved",
                           w->ws->root);
        return 0; /* a subdirectory's own event: its parent reported it */
    }
    char *rel = join_rel(dir, ev->name);
    if (!rel) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) unwatch_tree(w, rel);
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            rc = learn_ignored(w, rel);
            if (rc < 0) rc = ae_fail(err, rc, "out of memory learning what git ignores in %s", rel);
            if (rc == 0 && descend(w, rel, true)) {
                rc = watch_tree(w, rel, true, 1, err);
                if (rc == 0 && w->backend == AE_WATCH_INOTIFY) rc = enqueue(w, rel, now);
            }
        } else if (rc == 0) {
            rc = enqueue(w, rel, now);
        }
    } else if (!strcmp(ev->name, ".gitignore")) {
        notice(w, AE_WATCH_INFO, "rescan", "%s changed: rescanning the workspace", rel);
        want_rescan(w, now + w->o.debounce_ms, "a .gitignore changed");
    } else if (ae_language_for_path(ev->name)) {
        rc = enqueue(w, rel, now);
        if (rc < 0) rc = ae_fail(err, rc, "out of memory queueing %s", rel);
    }
    free(rel);
    return rc;
}

static int read_events(ae_watch *w, ae_error *err)
{
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (w->backend == AE_WATCH_INOTIFY && w->in_fd >= 0) {
        ssize_t n = read(w->in_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        if (n <= 0) return ae_fail_errno(err, n < 0 ? errno : EIO, "read inotify events");
        int64_t now = ae_mono_ms();
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            AE_TRY(on_event(w, ev, now, err));
            if (w->test_overflow_every && ++w->events_read % w->test_overflow_every == 0) {
                struct inotify_event ov = {.wd = -1, .mask = IN_Q_OVERFLOW}; /* a test hook */
                AE_TRY(on_event(w, &ov, now, err));
            }
            if (w->backend != AE_WATCH_INOTIFY) return 0;
            p += sizeof *ev + ev->len;
        }
    }
    return 0;
}

/* ---- batches -------------------------------------------------------------------------------- */

static void refresh_index(ae_watch *w);
static void after_pass(ae_watch *w, int rc);

static void on_changed(void *ctx, const ae_change_event *ev)
{
    ae_watch *w = ctx;
    w->added += ev->n_added;
    w->removed += ev->n_removed;
    w->updated += ev->n_updated;
    const ae_index_callbacks *u = w->cb.index;
    if (u && u->changed) u->changed(u->ctx, ev);
}

/* The user's callbacks get their own ctx: wrap each one we forward. */
static void fwd_progress(void *ctx, const ae_index_progress *p)
{
    const ae_index_callbacks *u = ((ae_watch *)ctx)->cb.index;
    if (u && u->progress) u->progress(u->ctx, p);
}

static void fwd_sir_stored(void *ctx, const char *id, const char *hash, const char *provider)
{
    const ae_index_callbacks *u = ((ae_watch *)ctx)->cb.index;
    if (u && u->sir_stored) u->sir_stored(u->ctx, id, hash, provider);
}

static void fwd_sir_stale(void *ctx, const char *id, const char *error)
{
    const ae_index_callbacks *u = ((ae_watch *)ctx)->cb.index;
    if (u && u->sir_stale) u->sir_stale(u->ctx, id, error);
}

static void fwd_embedding(void *ctx, const char *id, const char *provider, const char *model)
{
    const ae_index_callbacks *u = ((ae_watch *)ctx)->cb.index;
    if (u && u->embedding_stored) u->embedding_stored(u->ctx, id, provider, model);
}

static void forward_notices(ae_watch *w)
{
    size_t n;
    const char *const *notes = ae_workspace_notices(w->ws, &n);
    for (size_t i = 0; i < n; i++)
        notice(w, AE_WATCH_INFO, "index", "%s", notes[i]);
}

/* Files holding a stale SIR (recorded with mtime_ns = -1, index_batch.h) are queued again
 * once the backoff ran out, so a provider that recovers turns them fresh without a save. */
static void retry_stale(ae_watch *w, const ae_index_stats *st)
{
    if (!st->sirs_failed) {
        w->stale_retry_ms = 0;
        return;
    }
    w->stale_retry_ms = w->stale_retry_ms ? w->stale_retry_ms * 2 : STALE_RETRY_MIN;
    if (w->stale_retry_ms > STALE_RETRY_MAX) w->stale_retry_ms = STALE_RETRY_MAX;
    sqlite3_stmt *q;
    if (ae_meta_prepare(w->ws->meta, "SELECT path FROM files WHERE mtime_ns = -1", &q, NULL) < 0)
        return;
    /* queued as if their event came at now + backoff - debounce */
    int64_t at = ae_mono_ms() + w->stale_retry_ms - w->o.debounce_ms;
    size_t n = 0;
    while (sqlite3_step(q) == SQLITE_ROW &&
           enqueue(w, (const char *)sqlite3_column_text(q, 0), at) == 0)
        n++;
    sqlite3_finalize(q);
    if (n)
        notice(w, AE_WATCH_INFO, "sir_retry", "%zu file%s with stale SIRs retried in %lld ms", n,
               n == 1 ? "" : "s", (long long)w->stale_retry_ms);
}

static void report(ae_watch *w, bool full, size_t paths, const ae_index_stats *st, double t0,
                   int rc, const ae_error *e)
{
    if (rc == 0) retry_stale(w, st);
    forward_notices(w);
    if (!w->cb.batch) return;
    ae_watch_batch b = {.full = full,
                        .paths = paths,
                        .files = st->files_changed + st->files_removed,
                        .symbols_added = w->added,
                        .symbols_removed = w->removed,
                        .symbols_updated = w->updated,
                        .sirs_written = st->sirs_written,
                        .sirs_failed = st->sirs_failed,
                        .embeddings_written = st->embeddings_written,
                        .embeddings_deleted = st->embeddings_deleted,
                        .ms = (ae_mono_s() - t0) * 1000.0,
                        .rc = rc,
                        .error = rc < 0 ? e->message : NULL};
    w->cb.batch(w->cb.ctx, &b);
}

static void run_full(ae_watch *w)
{
    w->rescan = false;
    w->added = w->removed = w->updated = 0;
    double t0 = ae_mono_s();
    ae_index_stats st;
    ae_error e = {0};
    /* the pass covers every pending path */
    pending_clear(w);
    int rc = ae_workspace_index(w->ws, &w->icb, &st, &e);
    if (rc < 0 && w->stop) {
        notice(w, AE_WATCH_INFO, "abandoned", "stopped during a full pass: %s", e.message);
        return;
    }
    if (rc < 0) {
        memset(&st, 0, sizeof st);
        want_rescan(
            w, ae_mono_ms() + (w->o.debounce_ms > RETRY_MS_MIN ? w->o.debounce_ms : RETRY_MS_MIN),
            "the previous full pass failed");
    }
    report(w, true, 0, &st, t0, rc, &e);
    after_pass(w, rc);
}

/* ---- the ANN index in the background (note 5) ----------------------------------------------- */

/* The child: its own handle of the vector tables, the policy's build, the result ("rc message")
 * into the pipe.  Never returns; touches nothing of the parent's but read-only memory. */
/* What every child does first: die with the parent, default signals, no inherited descriptor
 * but its result pipe (which becomes fd 3), a lower priority. */
static int child_setup(int out, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(2); /* the parent died before the line above */
    /* the caller's signal handlers are for its own process */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* every inherited descriptor goes: a kept copy of the watch or write lock's would keep it
     * held for as long as this child lives */
    if (out != 3) {
        if (dup2(out, 3) < 0) _exit(2);
        out = 3;
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0)
#endif
    {
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536) max = 65536;
        for (int fd = 4; fd < max; fd++)
            close(fd);
    }
    errno = 0;
    if (nice(BUILD_NICE) < 0 && errno) {
        /* a lower priority is a courtesy, not a need */
    }
    return out;
}

/* Writes the child's result line into its pipe. */
static void child_report(int out, const char *msg, int n)
{
    for (int off = 0; n > off;) {
        ssize_t k = write(out, msg + off, (size_t)(n - off));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (int)k;
    }
}

static _Noreturn void build_child(const char *vectors_dir, const char *lock_path, int out,
                                  pid_t parent)
{
    out = child_setup(out, parent);
    /* the record that a build runs (note 5): held until this process dies, so the file it
     * may leave unpublished is swept only once nobody can be writing it */
    int lk = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lk >= 0 && flock(lk, LOCK_EX) == 0) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(lk, 0) < 0 || pwrite(lk, pid, (size_t)n, 0) != n) {
            /* without the record an orphan waits for --optimize, as before */
        }
    }
    /* the publish waits for the parent's batches, which hold the table's lock while they
     * write (tens of seconds in a storm at 200K rows), rather than waste the build */
    ae_table_set_default_lock_timeout(AE_LOCK_MAX_TIMEOUT_MS);
    ae_error e = {0};
    ae_vector_store *vs = NULL;
    int rc = ae_vs_open_table(vectors_dir, &vs, &e);
    if (rc == 0) rc = ae_vs_rebuild_index(vs, &e);
    char msg[AE_ERROR_MESSAGE_MAX + 32];
    int n = snprintf(msg, sizeof msg, "%d %s", rc < 0 ? rc : 0, rc < 0 ? e.message : "");
    if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
    child_report(out, msg, n);
    _exit(rc < 0 ? 1 : 0); /* no atexit handlers, no stdio flush: the parent's */
}

static int start_build(ae_watch *w, ae_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return ae_fail_errno(err, errno, "pipe for the index build");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return ae_fail_errno(err, e, "fork for the index build");
    }
    if (pid == 0) {
        close(p[0]);
        build_child(w->ws->vectors_dir, w->bld_lock_path, p[1], parent);
    }
    close(p[1]);
    if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 || ep_add(w, p[0], err) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(p[0]);
        return ae_fail_errno(err, errno, "watch the index build's pipe");
    }
    w->bld_pid = pid;
    w->bld_fd = p[0];
    w->bld_len = 0;
    w->bld_t0 = ae_mono_s();
    w->bld_again = false;
    notice(w, AE_WATCH_INFO, "index_build",
           "ANN index build due: building in the background (pid %ld)", (long)pid);
    return 0;
}

/* Ends the build's bookkeeping: the pipe out of the epoll set, the child reaped. */
static void build_forget(ae_watch *w, int *status)
{
    epoll_ctl(w->ep, EPOLL_CTL_DEL, w->bld_fd, NULL);
    close(w->bld_fd);
    w->bld_fd = -1;
    *status = -1;
    while (waitpid(w->bld_pid, status, 0) < 0 && errno == EINTR) {
    }
    w->bld_pid = 0;
}

/* Removes what a build child that died unpublished left in its tables' index/ (note 5): only
 * when a build was recorded, no process holds the record's lock (a live build child holds it
 * for its life) and under write.lock (a one-shot writer's build holds that); so no file a
 * live build writes is touched.  done: the build ended cleanly (published, or failed and
 * removed its own file): just clear the record. */
static void sweep_index_orphans(ae_watch *w, bool done)
{
    ae_workspace *ws = w->ws;
    if (w->bld_pid > 0 || !w->bld_lock_path) return;
    int fd = open(w->bld_lock_path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return; /* no build ever recorded */
    struct stat sb;
    if (fstat(fd, &sb) < 0 || sb.st_size == 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return;
    }
    size_t removed = 0;
    bool swept = done;
    ae_error e = {0};
    if (!done && ae_ws_write_begin(ws, &e) == 0) {
        ae_strlist names = {0};
        int rc = ae_tables_list(ws->vectors_dir, &names, &e);
        for (size_t i = 0; rc == 0 && i < names.len; i++) {
            char *dir = ae_path_join(ws->vectors_dir, names.items[i]);
            ae_table *t = NULL;
            size_t n = 0;
            rc = dir ? ae_table_open_dir(dir, NULL, &t, &e)
                     : ae_fail(&e, AE_ENOMEM, "out of memory");
            if (rc == 0) rc = ae_table_sweep_index_orphans(t, &n, &e);
            ae_table_close(t);
            free(dir);
            removed += n;
        }
        ae_strlist_free(&names);
        ae_ws_write_end(ws);
        swept = rc == 0;
        if (rc < 0)
            notice(w, AE_WATCH_WARN, "index",
                   "cannot remove what an abandoned index build left: %s", e.message);
    }
    if (swept && ftruncate(fd, 0) < 0) {
        /* the record stays: the next sweep looks again */
    }
    close(fd);
    if (removed)
        notice(w, AE_WATCH_INFO, "index",
               "removed %zu unpublished index file%s an abandoned background build left", removed,
               removed == 1 ? "" : "s");
}

/* Reads what the child sent; once the pipe is at its end the build is over. */
static void check_build(ae_watch *w)
{
    if (w->bld_fd < 0) return;
    for (;;) {
        size_t room = sizeof w->bld_msg - 1 - w->bld_len;
        if (!room) break; /* a full message: the child exits next */
        ssize_t n = read(w->bld_fd, w->bld_msg + w->bld_len, room);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return; /* still building */
        if (n <= 0) break;
        w->bld_len += (size_t)n;
    }
    w->bld_msg[w->bld_len] = '\0';
    pid_t pid = w->bld_pid;
    int status;
    build_forget(w, &status);
    double s = ae_mono_s() - w->bld_t0;
    char *rest = NULL;
    long rc = w->bld_len ? strtol(w->bld_msg, &rest, 10) : -1;
    sweep_index_orphans(w, w->bld_len > 0); /* a result line: the child ended cleanly */
    if (w->bld_len && rc == 0)
        notice(w, AE_WATCH_INFO, "index_built", "ANN index built in the background in %.1f s", s);
    else if (w->bld_len)
        notice(w, AE_WATCH_WARN, "index", "ANN index build failed: %s",
               rest && *rest == ' ' ? rest + 1 : w->bld_msg);
    else if (status != -1 && WIFSIGNALED(status))
        notice(w, AE_WATCH_WARN, "index", "ANN index build (pid %ld) ended by signal %d", (long)pid,
               WTERMSIG(status));
    else
        notice(w, AE_WATCH_WARN, "index", "ANN index build (pid %ld) ended without a result",
               (long)pid);
    if (w->bld_again && !w->head && !w->rescan) refresh_index(w);
}

/* A stop or close: the build is abandoned (nothing of it is published; the lock it may hold
 * for its one commit goes with it). */
static void abandon_build(ae_watch *w)
{
    if (w->bld_pid <= 0) return;
    pid_t pid = w->bld_pid;
    kill(pid, SIGKILL);
    int status;
    build_forget(w, &status);
    notice(w, AE_WATCH_INFO, "abandoned",
           "stopped during an ANN index build (pid %ld): abandoned after %.1f s, the next run "
           "builds it",
           (long)pid, ae_mono_s() - w->bld_t0);
}

/* The ANN index, refreshed by the vector store's own policy (built or rebuilt only when due)
 * once the queue is empty.  A due build runs in a child (note 5); what is not due (the stamp
 * of an index in use, another backend's refresh) is cheap and runs here. */
static void refresh_index(ae_watch *w)
{
    ae_workspace *ws = w->ws;
    if (!ws->config.embeddings.enabled || w->stop) return;
    if (w->rt_pid > 0) return; /* asked when the retrain ends (note 6) */
    if (w->bld_pid > 0) {
        w->bld_again = true;
        return;
    }
    ae_error e = {0};
    ae_vector_store *vs;
    bool due = false;
    int rc = ae_ws_write_begin(ws, &e);
    if (rc < 0) return; /* busy: the next batch's turn */
    rc = ae_ws_vector_store(ws, &vs, &e);
    if (rc == 0 && ws->backend_name && !strcmp(ws->backend_name, "lancedb"))
        rc = ae_tables_index_due(vs, &due, &e);
    if (rc == 0 && !due) rc = ae_vs_rebuild_index(vs, &e);
    ae_ws_write_end(ws);
    if (rc == 0 && due) rc = start_build(w, &e);
    if (rc < 0) notice(w, AE_WATCH_WARN, "index", "ANN index refresh failed: %s", e.message);
}

/* ---- the learned model's retrain in the background (note 6) ---------------------------------- */

static _Noreturn void retrain_child(const char *root, const char *from, int out, pid_t parent)
{
    out = child_setup(out, parent);
    ae_ws_retrain_result res;
    ae_error e = {0};
    int rc = ae_ws_retrain(root, from, &res, &e);
    char msg[AE_ERROR_MESSAGE_MAX + 256];
    int n = rc < 0 ? snprintf(msg, sizeof msg, "%d %s", rc, e.message)
                   : snprintf(msg, sizeof msg, "0 %d %zu %zu %zu %zu %.1f %.1f %.1f %s",
                              (int)res.outcome, res.symbols, res.caught_up_unlocked, res.caught_up,
                              res.removed, res.train_s, res.embed_s, res.publish_s, res.model);
    if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
    child_report(out, msg, n);
    _exit(rc < 0 ? 1 : 0);
}

/* Forks the retrain child with meta.sqlite closed (note 6).  Only a failure to reopen it is
 * fatal (*fatal): the watcher cannot write without it. */
static int start_retrain(ae_watch *w, const char *from, bool *fatal, ae_error *err)
{
    ae_workspace *ws = w->ws;
    *fatal = false;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return ae_fail_errno(err, errno, "pipe for the retrain");
    snprintf(w->rt_from, sizeof w->rt_from, "%s", from);
    ae_meta_close(ws->meta);
    ws->meta = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        retrain_child(ws->root, w->rt_from, p[1], parent);
    }
    int fork_errno = errno;
    close(p[1]);
    int rc = ae_meta_open(ws->meta_path, false, &ws->meta, err);
    if (rc < 0) {
        *fatal = true;
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        close(p[0]);
        return rc;
    }
    if (pid < 0) {
        close(p[0]);
        return ae_fail_errno(err, fork_errno, "fork for the retrain");
    }
    if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 || ep_add(w, p[0], err) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(p[0]);
        return ae_fail_errno(err, errno, "watch the retrain's pipe");
    }
    w->rt_pid = pid;
    w->rt_fd = p[0];
    w->rt_len = 0;
    w->rt_t0 = ae_mono_s();
    notice(w, AE_WATCH_INFO, "retrain",
           "embedding model %s: the workspace drifted from it; retraining in the background "
           "(pid %ld), searches use it until the new model is published",
           from, (long)pid);
    return 0;
}

/* A pass asked for a retrain (ws->retrain_wanted): start one unless one runs or a failed one
 * is backing off.  Returns < 0 only when the watcher cannot go on. */
static int maybe_retrain(ae_watch *w, ae_error *err)
{
    ae_workspace *ws = w->ws;
    if (!ws->retrain_wanted) return 0;
    if (w->head || w->rescan) return 0; /* after the storm: the publish catches up less */
    ws->retrain_wanted = false;
    if (w->stop || w->rt_pid > 0 || ae_mono_ms() < w->rt_not_before) return 0;
    char *models = ae_path_join(ws->aether_dir, "models");
    char cur[AE_EMBED_MODEL_NAME_MAX + 1];
    ae_error e = {0};
    int rc = models ? ae_embed_model_current(models, AE_EMBED_MODEL_CURRENT, cur, &e) : AE_ENOMEM;
    free(models);
    if (rc < 0) return 0; /* no model: the next pass trains one in place */
    bool fatal = false;
    rc = start_retrain(w, cur, &fatal, &e);
    if (rc < 0 && fatal) return ae_fail(err, rc, "%s", e.message);
    if (rc < 0)
        notice(w, AE_WATCH_WARN, "retrain", "cannot retrain in the background: %s", e.message);
    return 0;
}

static void retrain_forget(ae_watch *w, int *status)
{
    epoll_ctl(w->ep, EPOLL_CTL_DEL, w->rt_fd, NULL);
    close(w->rt_fd);
    w->rt_fd = -1;
    *status = -1;
    while (waitpid(w->rt_pid, status, 0) < 0 && errno == EINTR) {
    }
    w->rt_pid = 0;
}

static void retrain_failed(ae_watch *w)
{
    w->rt_backoff_ms = w->rt_backoff_ms ? w->rt_backoff_ms * 2 : RETRAIN_RETRY_MIN;
    if (w->rt_backoff_ms > RETRAIN_RETRY_MAX) w->rt_backoff_ms = RETRAIN_RETRY_MAX;
    w->rt_not_before = ae_mono_ms() + w->rt_backoff_ms;
}

/* Reads what the retrain child sent; once the pipe is at its end the retrain is over. */
static void check_retrain(ae_watch *w)
{
    if (w->rt_fd < 0) return;
    for (;;) {
        size_t room = sizeof w->rt_msg - 1 - w->rt_len;
        if (!room) break;
        ssize_t n = read(w->rt_fd, w->rt_msg + w->rt_len, room);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return; /* still running */
        if (n <= 0) break;
        w->rt_len += (size_t)n;
    }
    w->rt_msg[w->rt_len] = '\0';
    pid_t pid = w->rt_pid;
    int status;
    retrain_forget(w, &status);
    double s = ae_mono_s() - w->rt_t0;
    char *rest = NULL;
    long rc = w->rt_len ? strtol(w->rt_msg, &rest, 10) : -1;
    int outcome = -1;
    size_t syms = 0, unlocked = 0, caught = 0, removed = 0;
    double ts = 0, es = 0, ps = 0;
    char model[AE_EMBED_MODEL_NAME_MAX + 1] = "";
    if (w->rt_len && rc == 0 &&
        sscanf(rest, "%d %zu %zu %zu %zu %lf %lf %lf %63s", &outcome, &syms, &unlocked, &caught,
               &removed, &ts, &es, &ps, model) != 9)
        outcome = -1;
    if (w->rt_len && rc == 0 && outcome == AE_WS_RETRAIN_PUBLISHED) {
        w->rt_backoff_ms = 0;
        notice(w, AE_WATCH_INFO, "retrained",
               "embedding model %s published in the background after %.1f s (train %.1f s, "
               "embed %zu symbols %.1f s, %zu changed meanwhile re-embedded; publish %.1f s: "
               "%zu more re-embedded, %zu removed)",
               model, s, ts, syms, es, unlocked, ps, caught, removed);
        /* the old model's embedder and tables: follow now, not at the next batch */
        ae_workspace *ws = w->ws;
        if (ws->write_depth == 0) {
            ae_embedder_close(ws->embedder);
            ws->embedder = NULL;
            ae_vs_close(ws->vs);
            ws->vs = NULL;
            ws->backend_name = NULL;
        }
    } else if (w->rt_len && rc == 0 && outcome == AE_WS_RETRAIN_UNCHANGED) {
        w->rt_backoff_ms = 0;
        notice(w, AE_WATCH_INFO, "retrained",
               "embedding model %s: retrained on the same data in %.1f s, kept", w->rt_from, s);
    } else if (w->rt_len && rc == 0 && outcome == AE_WS_RETRAIN_SUPERSEDED) {
        notice(w, AE_WATCH_INFO, "retrained",
               "embedding model %s was replaced by another writer during the background "
               "retrain: its result is dropped",
               w->rt_from);
    } else {
        retrain_failed(w);
        if (w->rt_len && rc < 0)
            notice(w, AE_WATCH_WARN, "retrain", "background retrain failed: %s",
                   rest && *rest == ' ' ? rest + 1 : w->rt_msg);
        else if (status != -1 && WIFSIGNALED(status))
            notice(w, AE_WATCH_WARN, "retrain", "background retrain (pid %ld) ended by signal %d",
                   (long)pid, WTERMSIG(status));
        else
            notice(w, AE_WATCH_WARN, "retrain",
                   "background retrain (pid %ld) ended without a result", (long)pid);
    }
    if (!w->head && !w->rescan) refresh_index(w);
}

static void abandon_retrain(ae_watch *w)
{
    if (w->rt_pid <= 0) return;
    pid_t pid = w->rt_pid;
    kill(pid, SIGKILL);
    int status;
    retrain_forget(w, &status);
    notice(w, AE_WATCH_INFO, "abandoned",
           "stopped during a background retrain (pid %ld): abandoned after %.1f s, the next run "
           "retrains",
           (long)pid, ae_mono_s() - w->rt_t0);
}

/* After a batch or a full pass: a retrain it asked for starts (note 6); with the queue empty
 * the index policy is asked (note 5). */
static void after_pass(ae_watch *w, int rc)
{
    if (maybe_retrain(w, &w->fatal) < 0) return;
    if (rc == 0 && !w->head && !w->rescan) refresh_index(w);
}

static void run_paths(ae_watch *w, int64_t now)
{
    size_t cap = w->o.batch_paths, n = 0;
    char **paths = calloc(cap, sizeof *paths);
    if (!paths) return;
    while (w->head && n < cap && w->head->at + w->o.debounce_ms <= now) {
        pend *p = w->head;
        list_unlink(w, p);
        table_remove(w, p);
        w->n_pending--;
        paths[n++] = p->path;
        free(p);
    }
    w->added = w->removed = w->updated = 0;
    double t0 = ae_mono_s();
    ae_index_stats st;
    ae_error e = {0};
    int rc = ae_workspace_index_paths(w->ws, (const char *const *)paths, n, &w->icb, &st, &e);
    if (rc < 0 && w->stop) {
        notice(w, AE_WATCH_INFO, "abandoned", "stopped during a batch: %s", e.message);
        rc = 0; /* nothing of it was half-written: each commit is whole */
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
        free(paths);
        return;
    }
    if (rc < 0) {
        memset(&st, 0, sizeof st);
        /* retried later, as if their events came again */
        int64_t again =
            ae_mono_ms() + (RETRY_MS_MIN > w->o.debounce_ms ? RETRY_MS_MIN - w->o.debounce_ms : 0);
        for (size_t i = 0; i < n; i++)
            enqueue(w, paths[i], again);
    }
    report(w, false, n, &st, t0, rc, &e);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    after_pass(w, rc);
}

int ae_watch_step(ae_watch *w, ae_error *err)
{
    drain(w->wake_fd);
    drain(w->timer_fd);
    check_build(w);
    check_retrain(w);
    int rc = read_events(w, err);
    if (rc < 0) return rc;
    int64_t now = ae_mono_ms();
    if (w->backend == AE_WATCH_POLL && now >= w->next_poll) {
        AE_TRY(poll_scan(w, false, err));
        w->next_poll = now + w->o.poll_ms;
    }
    if (w->rescan && w->rescan_at <= now) {
        notice(w, AE_WATCH_INFO, "rescan", "full incremental pass (%s)",
               w->rescan_why ? w->rescan_why : "rescan");
        if (w->backend == AE_WATCH_INOTIFY && w->rescan_why &&
            strcmp(w->rescan_why, "the initial pass") != 0) {
            AE_TRY(load_ignored(w, err));
            AE_TRY(watch_tree(w, "", false, 0, err));
        }
        run_full(w);
    } else if (w->head && w->head->at + w->o.debounce_ms <= now) {
        run_paths(w, now);
    }
    if (w->fatal.code < 0) {
        *err = w->fatal;
        return w->fatal.code;
    }
    /* more due work: come back through the caller's loop (so a stop is seen in between) */
    now = ae_mono_ms();
    int64_t due = next_due(w);
    if (due >= 0 && due <= now) ae_watch_wake(w);
    arm_timer(w);
    return 0;
}

int ae_watch_run(ae_watch *w, ae_error *err)
{
    while (!w->stop) {
        struct pollfd pfd = {.fd = w->ep, .events = POLLIN};
        int n = poll(&pfd, 1, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ae_fail_errno(err, errno, "poll");
        if (w->stop) break;
        AE_TRY(ae_watch_step(w, err));
    }
    return 0;
}

int ae_watch_fd(const ae_watch *w)
{
    return w->ep;
}

ae_watch_backend ae_watch_backend_used(const ae_watch *w)
{
    return w->backend;
}

/* ---- open / close --------------------------------------------------------------------------- */

static int ep_add(ae_watch *w, int fd, ae_error *err)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) return ae_fail_errno(err, errno, "epoll");
    return 0;
}

int ae_watch_open(ae_workspace *ws, const ae_watch_options *opts, const ae_watch_callbacks *cb,
                  ae_watch **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!ws || ws->readonly || !ws->meta, err, AE_EINVAL,
                 "ae_watch_open needs a workspace opened read-write");
    ae_watch *w = calloc(1, sizeof *w);
    if (!w) return ae_fail(err, AE_ENOMEM, "out of memory");
    w->ws = ws;
    ws->cancel = &w->stop;     /* a batch waiting for the writer lock gives up on a stop */
    ws->index_deferred = true; /* full passes leave the ANN index to refresh_index */
    w->lock_fd = w->ep = w->in_fd = w->timer_fd = w->wake_fd = w->bld_fd = w->rt_fd = -1;
    if (opts) w->o = *opts;
    if (cb) w->cb = *cb;
#ifdef AE_TESTING
    w->test_max_watches = test_hook("AE_WATCH_MAX_WATCHES");
    w->test_overflow_every = test_hook("AE_WATCH_OVERFLOW_EVERY");
#endif
    if (w->o.debounce_ms <= 0) w->o.debounce_ms = AE_WATCH_DEBOUNCE_MS_DEFAULT;
    if (w->o.debounce_ms > AE_WATCH_DEBOUNCE_MS_MAX) w->o.debounce_ms = AE_WATCH_DEBOUNCE_MS_MAX;
    if (!w->o.batch_paths) w->o.batch_paths = AE_WATCH_BATCH_PATHS_DEFAULT;
    w->icb = (ae_index_callbacks){.progress = fwd_progress,
                                  .sir_stored = fwd_sir_stored,
                                  .sir_stale = fwd_sir_stale,
                                  .embedding_stored = fwd_embedding,
                                  .changed = on_changed,
                                  .ctx = w};
    int rc = 0;
    AE_CHECK(take_lock(w, err));
    /* a due retrain of the learned model runs in a child (note 6), on the native backend */
    ws->retrain_deferred = ae_embed_provider_learns(ws->config.embeddings.provider) &&
                           !strcmp(ws->config.embeddings.vector_backend, "lancedb");
    {
        bool removed = false;
        ae_error e = {0};
        if (ae_ws_retrain_cleanup(ws->aether_dir, &removed, &e) < 0)
            notice(w, AE_WATCH_WARN, "retrain", "cannot clean up %s/%s: %s", ws->aether_dir,
                   AE_WS_RETRAIN_DIR, e.message);
        else if (removed)
            notice(w, AE_WATCH_INFO, "retrain",
                   "removed what an interrupted background retrain left in %s/%s", ws->aether_dir,
                   AE_WS_RETRAIN_DIR);
    }
    w->bld_lock_path = ae_path_join(ws->aether_dir, BUILD_LOCK_FILE);
    if (!w->bld_lock_path) AE_FAIL(err, AE_ENOMEM, "out of memory");
    sweep_index_orphans(w, false); /* of a build a previous daemon abandoned */
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ep < 0 || w->timer_fd < 0 || w->wake_fd < 0)
        AE_FAIL(err, AE_EIO, "cannot create the watcher's descriptors: %s", strerror(errno));
    AE_CHECK(ep_add(w, w->timer_fd, err));
    AE_CHECK(ep_add(w, w->wake_fd, err));
    AE_CHECK(load_ignored(w, err));
    if (!w->o.skip_initial) want_rescan(w, ae_mono_ms(), "the initial pass");
    if (w->o.force_poll || w->o.poll_ms > 0) {
        w->backend = AE_WATCH_POLL;
        if (w->o.poll_ms <= 0) w->o.poll_ms = POLL_MS_DEFAULT;
        w->next_poll = ae_mono_ms() + w->o.poll_ms;
        AE_CHECK(poll_scan(w, true, err));
    } else {
        w->in_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->in_fd < 0) {
            char why[128];
            snprintf(why, sizeof why, "inotify is not available (%s)", strerror(errno));
            AE_CHECK(switch_to_poll(w, "poll_fallback", why, err));
        } else {
            w->backend = AE_WATCH_INOTIFY;
            AE_CHECK(ep_add(w, w->in_fd, err));
            AE_CHECK(watch_tree(w, "", false, 0, err));
        }
    }
    if (w->backend == AE_WATCH_POLL && !w->o.skip_initial)
        w->rescan_why = "the initial pass"; /* not the fallback's reason */
    arm_timer(w);
    if (next_due(w) >= 0 && next_due(w) <= ae_mono_ms()) ae_watch_wake(w);
    *out = w;
    return 0;
cleanup:
    ae_watch_close(w);
    return rc;
}

void ae_watch_close(ae_watch *w)
{
    if (!w) return;
    abandon_build(w);
    abandon_retrain(w);
    if (w->ws->cancel == &w->stop) w->ws->cancel = NULL;
    w->ws->index_deferred = false;
    w->ws->retrain_deferred = w->ws->retrain_wanted = false;
    pending_clear(w);
    free(w->table);
    clear_watches(w);
    free(w->wds);
    ae_strlist_free(&w->ignored);
    snap_free(w->snap, w->n_snap);
    free(w->bld_lock_path);
    if (w->in_fd >= 0) close(w->in_fd);
    if (w->timer_fd >= 0) close(w->timer_fd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    if (w->ep >= 0) close(w->ep);
    if (w->lock_fd >= 0) {
        flock(w->lock_fd, LOCK_UN);
        close(w->lock_fd);
    }
    free(w);
}
