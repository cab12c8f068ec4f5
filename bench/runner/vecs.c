/* TEXMEX .fvecs / .ivecs files (per row: int32 dim, then dim values, little
 * endian) and the raw float32 matrix the benchmark mmaps as its vector source.
 *
 * 1. The .fvecs base has a 4-byte header per row, so it is converted once to a
 *    raw row-major base.f32 (and base.inv, the inverse norms) in the scratch
 *    directory; later runs reuse them when the sizes match.
 * 2. The source is a plain mmap: a fresh process touches only the rows it
 *    re-ranks, which is what the cold-start measurement is about.  The
 *    latency runs map it with MAP_POPULATE, as a long-running server would
 *    have it after a while; otherwise the first queries pay page faults
 *    (~1 us per candidate row) and the first setting of a sweep looks slower. */
#include "bench.h"

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int bench_fvecs_dim(const char *path, uint32_t *dim, ae_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ae_fail_errno(err, errno, "open %s", path);
    int32_t d = 0;
    size_t got = fread(&d, 4, 1, f);
    fclose(f);
    AE_RETURN_IF(got != 1 || d <= 0 || d > 65536, err, AE_ECORRUPT, "%s: bad dimension header",
                 path);
    *dim = (uint32_t)d;
    return 0;
}

int bench_read_vecs(const char *path, size_t limit, void **out, size_t *n, uint32_t *dim,
                    ae_error *err)
{
    char *data = NULL;
    size_t len = 0;
    AE_TRY(ae_read_file(path, &data, &len, err));
    int rc = 0;
    int32_t d;
    if (len < 4) AE_FAIL(err, AE_ECORRUPT, "%s: empty", path);
    memcpy(&d, data, 4);
    if (d <= 0 || d > 65536) AE_FAIL(err, AE_ECORRUPT, "%s: bad dimension %d", path, d);
    size_t rowb = 4 * ((size_t)d + 1);
    if (len % rowb)
        AE_FAIL(err, AE_ECORRUPT, "%s: %zu bytes is not whole rows of %d", path, len, d);
    size_t rows = len / rowb;
    if (limit && rows > limit) rows = limit;
    uint32_t *o = ae_calloc_array(rows * (size_t)d, 4);
    if (!o) AE_FAIL(err, AE_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < rows; i++) {
        int32_t di;
        memcpy(&di, data + i * rowb, 4);
        if (di != d) {
            free(o);
            AE_FAIL(err, AE_ECORRUPT, "%s: row %zu has dimension %d, not %d", path, i, di, d);
        }
        memcpy(o + i * (size_t)d, data + i * rowb + 4, 4 * (size_t)d);
    }
    *out = o;
    *n = rows;
    *dim = (uint32_t)d;
cleanup:
    free(data);
    return rc;
}

int bench_read_first_vec(const char *path, float **out, uint32_t *dim, ae_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    AE_RETURN_IF(fd < 0, err, AE_EIO, "cannot open %s", path);
    /* one row: no read-ahead of the rest of the file (a cold run counts it) */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
    int32_t d = 0;
    int rc = 0;
    float *q = NULL;
    if (pread(fd, &d, 4, 0) != 4 || d <= 0 || d > 65536)
        AE_FAIL(err, AE_ECORRUPT, "%s: no first row", path);
    q = ae_calloc_array((size_t)d, sizeof *q);
    if (!q) AE_FAIL(err, AE_ENOMEM, "%s: out of memory", path);
    if (pread(fd, q, 4 * (size_t)d, 4) != (ssize_t)(4 * (size_t)d)) {
        free(q);
        q = NULL;
        AE_FAIL(err, AE_ECORRUPT, "%s: first row truncated", path);
    }
    *out = q;
    *dim = (uint32_t)d;
cleanup:
    close(fd);
    return rc;
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

int bench_prepare_base(const char *fvecs, const char *dir, ae_error *err)
{
    uint32_t dim;
    AE_TRY(bench_fvecs_dim(fvecs, &dim, err));
    long long fz = file_size(fvecs);
    size_t rowb = 4 * ((size_t)dim + 1);
    AE_RETURN_IF(fz <= 0 || fz % (long long)rowb, err, AE_ECORRUPT,
                 "%s: size is not whole rows of %u", fvecs, dim);
    size_t n = (size_t)fz / rowb;
    AE_TRY(ae_mkdirs(dir, err));
    char *fx = ae_path_join(dir, "base.f32"), *fi = ae_path_join(dir, "base.inv");
    int rc = 0;
    FILE *in = NULL, *ox = NULL, *oi = NULL;
    float *buf = NULL;
    if (!fx || !fi) AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (file_size(fx) == (long long)(n * dim * 4) && file_size(fi) == (long long)(n * 4))
        goto cleanup;
    in = fopen(fvecs, "rb");
    ox = fopen(fx, "wb");
    oi = fopen(fi, "wb");
    if (!in || !ox || !oi) AE_FAIL(err, AE_EIO, "cannot convert %s into %s", fvecs, dir);
    buf = malloc(rowb);
    if (!buf) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (fread(buf, rowb, 1, in) != 1)
            AE_FAIL(err, AE_EIO, "%s: short read at row %zu", fvecs, i);
        double s = 0;
        for (uint32_t j = 0; j < dim; j++)
            s += (double)buf[1 + j] * buf[1 + j];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        if (fwrite(buf + 1, 4, dim, ox) != dim || fwrite(&inv, 4, 1, oi) != 1)
            AE_FAIL(err, AE_EIO, "write %s: short write", fx);
    }
cleanup:
    if (in) fclose(in);
    if (ox && fclose(ox) != 0 && rc == 0) rc = ae_fail(err, AE_EIO, "close %s", fx);
    if (oi && fclose(oi) != 0 && rc == 0) rc = ae_fail(err, AE_EIO, "close %s", fi);
    free(buf);
    free(fx);
    free(fi);
    return rc;
}

static int map_file(const char *path, bool populate, const void **out, size_t *bytes, ae_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ae_fail_errno(err, errno, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        close(fd);
        return ae_fail(err, AE_EIO, "%s: empty or unreadable", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0),
                   fd, 0);
    close(fd);
    if (p == MAP_FAILED) return ae_fail_errno(err, errno, "mmap %s", path);
    *out = p;
    *bytes = (size_t)st.st_size;
    return 0;
}

int bench_matrix_open(const char *dir, uint32_t dim, bool populate, bench_matrix *m, ae_error *err)
{
    memset(m, 0, sizeof *m);
    char *fx = ae_path_join(dir, "base.f32"), *fi = ae_path_join(dir, "base.inv");
    int rc = 0;
    const void *px = NULL, *pi = NULL;
    if (!fx || !fi) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(map_file(fx, populate, &px, &m->x_bytes, err));
    AE_CHECK(map_file(fi, populate, &pi, &m->inv_bytes, err));
    m->x = px;
    m->inv = pi;
    m->dim = dim;
    m->n = m->x_bytes / (4 * (size_t)dim);
    if (m->inv_bytes != m->n * 4) AE_FAIL(err, AE_ECORRUPT, "%s: wrong size", fi);
cleanup:
    if (rc < 0) bench_matrix_close(m);
    free(fx);
    free(fi);
    return rc;
}

void bench_matrix_close(bench_matrix *m)
{
    if (m->x) munmap((void *)m->x, m->x_bytes);
    if (m->inv) munmap((void *)m->inv, m->inv_bytes);
    memset(m, 0, sizeof *m);
}

static const float *mrow(void *ctx, size_t i)
{
    bench_matrix *m = ctx;
    return m->x + i * m->dim;
}

static float minv(void *ctx, size_t i)
{
    return ((bench_matrix *)ctx)->inv[i];
}

ae_vec_source bench_matrix_source(bench_matrix *m)
{
    return (ae_vec_source){m->n, m->dim, mrow, minv, m, NULL, NULL, NULL};
}
