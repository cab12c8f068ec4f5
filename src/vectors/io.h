/* The vector table's file I/O table.  Every call on the commit, compaction and
 * cleanup paths goes through `ae_vio`, so tests can count the calls and inject
 * failures at call #N with ae_vio_set_fault(spec):
 *
 *   "commit:N"   abort() before the N-th I/O step of a commit
 *   "compact:N"  abort() before the N-th I/O step of a compaction
 *   "enospc:N"   the N-th step (of any phase) fails with ENOSPC
 *   "eio:N"      the N-th step (of any phase) fails with EIO
 *
 * Steps are counted from 1 inside a phase (vio_phase_begin .. vio_phase_end);
 * outside a phase nothing is counted and no fault fires.  Test builds
 * (AE_TESTING) also take the spec from the environment variable AE_FAULT, so
 * the shell tests can drive aetherd; release builds ignore the environment. */
#ifndef AE_VECTORS_IO_H
#define AE_VECTORS_IO_H

#include <aether/error.h>
#include <stddef.h>
#include <sys/types.h>

/* The raw calls.  They behave like their POSIX namesakes: -1 and errno. */
typedef struct ae_vio {
    int (*open)(const char *path, int flags, mode_t mode);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*close)(int fd);
    int (*rename)(const char *from, const char *to);
    int (*link)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
} ae_vio;

/* The table in use (the fault-injecting layer over POSIX by default). */
extern const ae_vio *ae_vio_cur;

/* Replaces the table (NULL restores the default); returns the previous one. */
const ae_vio *ae_vio_install(const ae_vio *io);

/* Parses a fault spec like "commit:3" (NULL or "" clears it); process-wide.
 * Overrides AE_FAULT.  Returns AE_EINVAL for a malformed spec. */
int ae_vio_set_fault(const char *spec);

/* Phases: "commit", "compact", "cleanup".  Nested begins keep the outer phase
 * and its counter.  The counter is process-wide (one writer per handle). */
void vio_phase_begin(const char *phase);
void vio_phase_end(void);
/* Steps counted in the current phase so far (tests size their fault loops). */
unsigned vio_steps(void);

/* One step done by another module's own I/O (the fragment writer): counted
 * like a call, so a fault can fire there too; AE_ENOSPC / AE_EIO naming
 * `what` when an injected fault fires. */
int vio_external(const char *what, ae_error *err);

/* Helpers built on the table, with messages that name the file. */
/* Creates `path` exclusively (O_EXCL), writes `len` bytes, fsyncs, closes. */
int vio_write_file(const char *path, const void *data, size_t len, ae_error *err);
/* fsync of a directory, so renames/links/creates inside it are durable. */
int vio_fsync_dir(const char *dir, ae_error *err);
int vio_link(const char *from, const char *to, ae_error *err);
int vio_rename(const char *from, const char *to, ae_error *err);
/* Unlinks; a missing file is fine. */
int vio_unlink(const char *path, ae_error *err);
/* mkdir; an existing directory is fine. */
int vio_mkdir(const char *path, ae_error *err);

#endif
