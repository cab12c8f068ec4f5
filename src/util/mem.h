/* Allocation helpers: overflow-checked sizes, and a growable byte buffer. */
#ifndef AE_UTIL_MEM_H
#define AE_UTIL_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a * b into *out; false on overflow. */
static inline bool ae_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* calloc/realloc for n elements of size sz; NULL on overflow or exhaustion. */
void *ae_calloc_array(size_t n, size_t sz);
void *ae_realloc_array(void *p, size_t n, size_t sz);
char *ae_strdup(const char *s);
char *ae_strndup(const char *s, size_t n);
/* Allocated printf; NULL on failure. */
char *ae_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer, always NUL-terminated once anything is appended. */
typedef struct ae_buf {
    char *data;
    size_t len, cap;
} ae_buf;

int ae_buf_reserve(ae_buf *b, size_t extra); /* 0 or AE_ENOMEM */
int ae_buf_append(ae_buf *b, const void *p, size_t n);
int ae_buf_puts(ae_buf *b, const char *s);
int ae_buf_printf(ae_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ae_buf_free(ae_buf *b);

/* Growable list of owned strings (the type is public: reports carry it). */
#include <aether/strlist.h>

int ae_strlist_push(ae_strlist *l, const char *s); /* copies s */
int ae_strlist_push_owned(ae_strlist *l, char *s); /* takes s */
void ae_strlist_sort(ae_strlist *l);               /* bytewise */

#endif
