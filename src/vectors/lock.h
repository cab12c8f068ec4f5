/* The one-writer lock of a table: flock(LOCK_EX) on <table>/writer.lock.
 *
 * The holder writes its pid into the file, so a writer that times out can say
 * who holds it.  flock is released by the kernel when the holder dies, so a
 * crashed writer never leaves a stale lock; the pid text is only a hint.
 * Readers never take the lock. */
#ifndef AE_VECTORS_LOCK_H
#define AE_VECTORS_LOCK_H

#include <aether/error.h>

#define AE_LOCK_FILE               "writer.lock"
#define AE_LOCK_DEFAULT_TIMEOUT_MS 5000
#define AE_LOCK_MAX_TIMEOUT_MS     600000

/* Waits up to timeout_ms (0: try once) for the lock of table_dir; *fd holds
 * it.  AE_EBUSY "vector table <name> is locked by pid N" on timeout. */
int vlock_acquire(const char *table_dir, const char *name, int timeout_ms, int *fd, ae_error *err);
/* Releases; accepts -1. */
void vlock_release(int fd);

#endif
