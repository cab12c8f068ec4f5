#include "util/mem.h"

#include <aether/error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *ae_calloc_array(size_t n, size_t sz)
{
    size_t total;
    if (!ae_mul_size(n, sz, &total)) return NULL;
    return calloc(total ? n : 1, total ? sz : 1);
}

void *ae_realloc_array(void *p, size_t n, size_t sz)
{
    size_t total;
    if (!ae_mul_size(n, sz, &total)) return NULL;
    return realloc(p, total ? total : 1);
}

char *ae_strdup(const char *s)
{
    return s ? ae_strndup(s, strlen(s)) : NULL;
}

char *ae_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ae_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : out;
}

int ae_buf_reserve(ae_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) return AE_ENOMEM;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) return AE_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int ae_buf_append(ae_buf *b, const void *p, size_t n)
{
    if (ae_buf_reserve(b, n) < 0) return AE_ENOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ae_buf_puts(ae_buf *b, const char *s)
{
    return ae_buf_append(b, s, strlen(s));
}

int ae_buf_printf(ae_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || ae_buf_reserve(b, (size_t)n) < 0) {
        va_end(ap2);
        return AE_ENOMEM;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return 0;
}

void ae_buf_free(ae_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int ae_strlist_push_owned(ae_strlist *l, char *s)
{
    if (!s) return AE_ENOMEM;
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **items = ae_realloc_array(l->items, cap, sizeof *items);
        if (!items) {
            free(s);
            return AE_ENOMEM;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = s;
    return 0;
}

int ae_strlist_push(ae_strlist *l, const char *s)
{
    return ae_strlist_push_owned(l, ae_strdup(s));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ae_strlist_sort(ae_strlist *l)
{
    if (l->len > 1) qsort(l->items, l->len, sizeof *l->items, cmp_str);
}

void ae_strlist_free(ae_strlist *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}
