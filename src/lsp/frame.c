/* LSP framing (frame.h).  What is unusual here:
 *
 * 1. Header blocks end at "\r\n\r\n" (the spec) or "\n\n" (clients that forget the "\r");
 *    header names are case-insensitive, unknown headers are ignored, Content-Type is not
 *    checked (the body is read as UTF-8 JSON whatever it says).
 * 2. Resynchronisation: junk before a header ("}Content-Length: 5" after a body that was
 *    longer than announced) is reported once and the header after it is used; a block with no
 *    usable Content-Length is reported and dropped; a header block that grows past
 *    LSP_MAX_HEADER is reported and dropped up to its end.
 * 3. The search for a header block's end resumes where it stopped, so a client that sends
 *    a header one byte at a time costs linear time.
 * 4. An oversized body is reported when its header is read and then dropped byte by byte as
 *    it arrives (feed() drops it without buffering), so a client announcing 2^60 bytes costs
 *    nothing but the time to send them. */
#include "lsp/frame.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

enum { ST_HEADER, ST_BODY, ST_SKIP_HEADER, ST_SKIP_BODY };

void lsp_framer_init(lsp_framer *f, size_t max_body)
{
    memset(f, 0, sizeof *f);
    f->max_body = max_body < LSP_MIN_MAX_BODY ? LSP_MIN_MAX_BODY : max_body;
    f->state = ST_HEADER;
}

void lsp_framer_free(lsp_framer *f)
{
    free(f->buf);
    memset(f, 0, sizeof *f);
}

bool lsp_framer_partial(const lsp_framer *f)
{
    if (f->state == ST_BODY || f->state == ST_SKIP_BODY) return true;
    for (size_t i = f->start + f->consume; i < f->len; i++)
        if (!isspace((unsigned char)f->buf[i])) return true;
    return false;
}

/* Moves the start of the unconsumed bytes; what was searched is relative to it. */
static void advance(lsp_framer *f, size_t n)
{
    f->start += n;
    if (n) f->scanned = 0;
}

static void drop_consumed(lsp_framer *f)
{
    advance(f, f->consume);
    f->consume = 0;
    if (f->start == f->len) f->start = f->len = 0;
}

int lsp_framer_feed(lsp_framer *f, const void *data, size_t n)
{
    drop_consumed(f);
    const char *p = data;
    if (f->state == ST_SKIP_BODY && f->start == f->len) {
        size_t k = (uint64_t)n < f->skip_left ? n : (size_t)f->skip_left;
        f->skip_left -= k;
        p += k;
        n -= k;
        if (!f->skip_left) f->state = ST_HEADER;
    }
    if (!n) return 0;
    if (f->start && (f->start == f->len || f->len + n > f->cap)) {
        memmove(f->buf, f->buf + f->start, f->len - f->start);
        f->len -= f->start;
        f->start = 0;
    }
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->len + n)
            cap *= 2;
        char *b = realloc(f->buf, cap);
        if (!b) return AE_ENOMEM;
        f->buf = b;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

/* The end of the header block in p[0..n): offset of the terminator and its length, or -1. */
static long find_terminator(const char *p, size_t n, size_t *term_len)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] != '\n') continue;
        if (p[i + 1] == '\n') {
            *term_len = 2;
            return (long)i;
        }
        if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n' && i > 0 && p[i - 1] == '\r') {
            *term_len = 4;
            return (long)i - 1;
        }
    }
    return -1;
}

static const char *find_ci(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(p + i, needle, k)) return p + i;
    return NULL;
}

typedef struct header_info {
    bool junk, bad_length, have_length;
    uint64_t length;
    char bad_value[24];
} header_info;

static void parse_length(const char *v, size_t n, header_info *h)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    uint64_t x = 0;
    bool ok = n > 0 && n <= 19;
    for (size_t i = 0; ok && i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            ok = false;
        else
            x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (ok) {
        h->have_length = true;
        h->length = x;
        return;
    }
    h->bad_length = true;
    snprintf(h->bad_value, sizeof h->bad_value, "%.*s", (int)(n < 20 ? n : 20), v);
}

static void parse_block(const char *p, size_t n, header_info *h)
{
    memset(h, 0, sizeof *h);
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p += l + (nl ? 1 : 0);
        if (l && line[l - 1] == '\r') l--;
        if (!l) continue;
        const char *cl = find_ci(line, l, "content-length:");
        if (cl) {
            if (cl != line) h->junk = true;
            size_t skip = (size_t)(cl - line) + strlen("content-length:");
            parse_length(cl + strlen("content-length:"), l - skip, h);
            continue;
        }
        const char *colon = memchr(line, ':', l);
        bool token = colon && colon > line;
        for (const char *q = line; token && q < colon; q++)
            if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_') token = false;
        if (!token) h->junk = true; /* anything else with a proper name: ignored */
    }
}

lsp_frame_event lsp_framer_next(lsp_framer *f, const char **body, size_t *len)
{
    drop_consumed(f);
    for (;;) {
        char *p = f->buf + f->start;
        size_t avail = f->len - f->start, tl = 0;
        long t;
        switch (f->state) {
        case ST_HEADER: {
            /* resume the search where the last one stopped (a header fed a byte at a time
             * costs linear time, not quadratic); 3 bytes back for a straddling terminator */
            size_t from = f->scanned > 3 && f->scanned <= avail ? f->scanned - 3 : 0;
            t = find_terminator(p + from, avail - from, &tl);
            if (t >= 0) {
                t += (long)from;
            } else {
                f->scanned = avail;
            }
            if (t < 0 || (size_t)t > LSP_MAX_HEADER) {
                if (t < 0 && avail <= LSP_MAX_HEADER) return LSP_FRAME_NEED_MORE;
                snprintf(f->error, sizeof f->error,
                         "header block longer than %u bytes: dropped up to its end",
                         LSP_MAX_HEADER);
                if (t < 0) {
                    advance(f, avail - 3); /* a terminator may straddle the next bytes */
                    f->state = ST_SKIP_HEADER;
                } else {
                    advance(f, (size_t)t + tl);
                }
                return LSP_FRAME_ERROR;
            }
            bool blank = true;
            for (long i = 0; blank && i < t; i++)
                blank = isspace((unsigned char)p[i]) != 0;
            if (blank) { /* stray line breaks between messages */
                advance(f, (size_t)t + tl);
                continue;
            }
            header_info h;
            parse_block(p, (size_t)t, &h);
            advance(f, (size_t)t + tl);
            if (h.bad_length || !h.have_length) {
                if (h.bad_length)
                    snprintf(f->error, sizeof f->error,
                             "Content-Length '%s' is not a whole number of bytes: header dropped",
                             h.bad_value);
                else
                    snprintf(f->error, sizeof f->error,
                             "header block without Content-Length: dropped");
                return LSP_FRAME_ERROR;
            }
            if (h.length > f->max_body) {
                snprintf(f->error, sizeof f->error,
                         "Content-Length %llu is over the limit of %zu bytes: message dropped",
                         (unsigned long long)h.length, f->max_body);
                f->state = ST_SKIP_BODY;
                f->skip_left = h.length;
                return LSP_FRAME_ERROR;
            }
            f->body_len = (size_t)h.length;
            f->state = ST_BODY;
            if (h.junk) {
                snprintf(f->error, sizeof f->error,
                         "bytes that are not a header before Content-Length: dropped");
                return LSP_FRAME_ERROR;
            }
            continue;
        }
        case ST_BODY:
            if (avail < f->body_len) return LSP_FRAME_NEED_MORE;
            *body = p;
            *len = f->body_len;
            f->consume = f->body_len;
            f->state = ST_HEADER;
            return LSP_FRAME_MESSAGE;
        case ST_SKIP_HEADER:
            t = find_terminator(p, avail, &tl);
            if (t >= 0) {
                advance(f, (size_t)t + tl);
                f->state = ST_HEADER;
                continue;
            }
            if (avail > 3) advance(f, avail - 3);
            return LSP_FRAME_NEED_MORE;
        default: { /* ST_SKIP_BODY */
            size_t k = (uint64_t)avail < f->skip_left ? avail : (size_t)f->skip_left;
            advance(f, k);
            f->skip_left -= k;
            if (f->skip_left) return LSP_FRAME_NEED_MORE;
            f->state = ST_HEADER;
            continue;
        }
        }
    }
}

size_t lsp_frame_header(char *buf, size_t cap, size_t n)
{
    int w = snprintf(buf, cap, "Content-Length: %zu\r\n\r\n", n);
    return w < 0 ? 0 : (size_t)w;
}
