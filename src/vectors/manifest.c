/* Manifest encoding, decoding and listing.
 *
 * 1. The checksum covers the exact bytes of the body line, not a re-serialised
 *    form, so no JSON canonicalisation is involved in checking it.
 * 2. Decoding is strict: unknown magic is AE_ENOTOURS, a newer format is
 *    AE_EVERSION, anything torn or malformed is AE_ECORRUPT with the file name.
 * 3. Versions are 20-digit zero-padded decimals so names sort like numbers. */
#include "vectors/manifest.h"

#include <aether/vector_store.h>

#include "util/blake3.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *ref_to_json(const ae_file_ref *r)
{
    return json_pack("{s:s,s:I,s:s}", "file", r->file, "size", (json_int_t)r->size, "checksum",
                     r->checksum);
}

/* The 16 words of a fragment layout, in ae_fragment_layout's order. */
static void layout_words(const ae_fragment_layout *l, uint64_t w[AE_FRAGMENT_LAYOUT_WORDS])
{
    w[0] = l->footer;
    for (int c = 0; c < 4; c++) {
        w[1 + 3 * c] = l->str_off[c];
        w[2 + 3 * c] = l->str_data[c];
        w[3 + 3 * c] = l->str_len[c];
    }
    w[13] = l->items;
    w[14] = l->updated;
    w[15] = l->inv;
}

static json_t *layout_to_json(const ae_fragment_layout *l)
{
    uint64_t w[AE_FRAGMENT_LAYOUT_WORDS];
    layout_words(l, w);
    json_t *a = json_array();
    for (int i = 0; a && i < AE_FRAGMENT_LAYOUT_WORDS; i++)
        json_array_append_new(a, json_integer((json_int_t)w[i]));
    return a;
}

static int layout_from_json(json_t *a, ae_fragment_layout *l)
{
    if (!json_is_array(a) || json_array_size(a) != AE_FRAGMENT_LAYOUT_WORDS) return -1;
    uint64_t w[AE_FRAGMENT_LAYOUT_WORDS];
    for (size_t i = 0; i < AE_FRAGMENT_LAYOUT_WORDS; i++) {
        json_t *j = json_array_get(a, i);
        if (!json_is_integer(j) || json_integer_value(j) < 0) return -1;
        w[i] = (uint64_t)json_integer_value(j);
    }
    l->footer = w[0];
    for (int c = 0; c < 4; c++) {
        l->str_off[c] = w[1 + 3 * c];
        l->str_data[c] = w[2 + 3 * c];
        l->str_len[c] = w[3 + 3 * c];
    }
    l->items = w[13];
    l->updated = w[14];
    l->inv = w[15];
    return 0;
}

int manifest_encode(const ae_manifest *m, char **out, size_t *len, ae_error *err)
{
    *out = NULL;
    json_t *frags = json_array();
    json_t *body = NULL;
    char *text = NULL;
    int rc = 0;
    if (!frags) AE_FAIL(err, AE_ENOMEM, "out of memory encoding manifest");
    for (size_t i = 0; i < m->n_fragments; i++) {
        const ae_manifest_fragment *f = &m->fragments[i];
        json_t *del = json_null();
        if (f->deletion.file) {
            json_decref(del);
            del = ref_to_json(&f->deletion);
            if (del) json_object_set_new(del, "count", json_integer((json_int_t)f->deleted));
        }
        json_t *fj =
            json_pack("{s:I,s:s,s:I,s:I,s:s,s:o*}", "id", (json_int_t)f->id, "file", f->data.file,
                      "rows", (json_int_t)f->rows, "size", (json_int_t)f->data.size, "checksum",
                      f->data.checksum, "deletion", del);
        if (fj && f->has_layout) json_object_set_new(fj, "layout", layout_to_json(&f->layout));
        if (!fj || json_array_append_new(frags, fj) < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory encoding manifest");
    }
    json_t *index = json_null();
    if (m->index.ref.file) {
        json_decref(index);
        index = ref_to_json(&m->index.ref);
        if (index) {
            json_object_set_new(index, "covers_version",
                                json_integer((json_int_t)m->index.covers_version));
            json_object_set_new(index, "rows", json_integer((json_int_t)m->index.rows));
            const ae_index_stamp *st = &m->index.stamp;
            if (st->set)
                json_object_set_new(index, "verified",
                                    json_pack("{s:I,s:I,s:I}", "ino", (json_int_t)st->ino,
                                              "mtime_ns", (json_int_t)st->mtime_ns, "ctime_ns",
                                              (json_int_t)st->ctime_ns));
            const ae_index_tuned *tu = &m->index.tuned;
            if (tu->set)
                json_object_set_new(index, "tuned",
                                    json_pack("{s:f,s:f,s:i,s:i,s:i,s:i}", "target", tu->target,
                                              "recall", tu->recall, "k", (int)tu->k, "nprobe",
                                              (int)tu->nprobe, "refine", (int)tu->refine, "sample",
                                              (int)tu->sample));
        }
    }
    body = json_pack("{s:s,s:i,s:I,s:s,s:s,s:I,s:I,s:I,s:O,s:o*}", "magic", AE_MANIFEST_MAGIC,
                     "format", AE_MANIFEST_FORMAT, "version", (json_int_t)m->version, "provider",
                     m->provider, "model", m->model, "dim", (json_int_t)m->dim, "created_at",
                     (json_int_t)m->created_at, "next_fragment_id", (json_int_t)m->next_fragment_id,
                     "fragments", frags, "index", index);
    if (!body) AE_FAIL(err, AE_ENOMEM, "out of memory encoding manifest");
    text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) AE_FAIL(err, AE_ENOMEM, "out of memory encoding manifest");
    size_t blen = strlen(text);
    char hex[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex(text, blen, hex);
    char *all = ae_asprintf("%s\n{\"body_blake3\":\"%s\",\"body_len\":%zu}\n", text, hex, blen);
    if (!all) AE_FAIL(err, AE_ENOMEM, "out of memory encoding manifest");
    *out = all;
    *len = strlen(all);
cleanup:
    free(text);
    json_decref(body);
    json_decref(frags);
    return rc;
}

static int get_u64(json_t *o, const char *key, uint64_t *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0) return -1;
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

static int get_str(json_t *o, const char *key, char **v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_string(j)) return -1;
    *v = ae_strdup(json_string_value(j));
    return *v ? 0 : -1;
}

/* Relative file names must stay inside the table directory. */
static int safe_name(const char *s)
{
    return s && *s && s[0] != '/' && !strstr(s, "..") && !strchr(s, '\n');
}

static int get_ref(json_t *o, ae_file_ref *r)
{
    json_t *c = json_object_get(o, "checksum");
    if (get_str(o, "file", &r->file) < 0 || !safe_name(r->file)) return -1;
    if (get_u64(o, "size", &r->size) < 0) return -1;
    if (!json_is_string(c) || strlen(json_string_value(c)) != AE_CHECKSUM_HEX_LEN) return -1;
    memcpy(r->checksum, json_string_value(c), AE_CHECKSUM_HEX_LEN + 1);
    return 0;
}

int manifest_decode(const char *data, size_t len, const char *name, ae_manifest *m, ae_error *err)
{
    memset(m, 0, sizeof *m);
    const char *nl = memchr(data, '\n', len);
    if (!nl) return ae_fail(err, AE_ECORRUPT, "%s: truncated manifest (no trailer)", name);
    size_t blen = (size_t)(nl - data);
    const char *tr = nl + 1;
    size_t tlen = len - blen - 1;
    if (tlen == 0 || tr[tlen - 1] != '\n')
        return ae_fail(err, AE_ECORRUPT, "%s: truncated manifest (no trailer)", name);
    json_error_t je;
    json_t *trailer = json_loadb(tr, tlen - 1, 0, &je);
    json_t *body = NULL;
    int rc = 0;
    uint64_t declared = 0;
    json_t *sum = json_object_get(trailer, "body_blake3");
    if (!trailer || !json_is_string(sum) || get_u64(trailer, "body_len", &declared) < 0)
        AE_FAIL(err, AE_ECORRUPT, "%s: malformed manifest trailer", name);
    if (declared != blen)
        AE_FAIL(err, AE_ECORRUPT, "%s: manifest body is %zu bytes, trailer says %" PRIu64, name,
                blen, declared);
    char hex[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex(data, blen, hex);
    if (strcmp(hex, json_string_value(sum)))
        AE_FAIL(err, AE_ECORRUPT, "%s: manifest checksum mismatch", name);
    body = json_loadb(data, blen, 0, &je);
    if (!body) AE_FAIL(err, AE_ECORRUPT, "%s: manifest body: %s", name, je.text);
    json_t *magic = json_object_get(body, "magic");
    if (!json_is_string(magic) || strcmp(json_string_value(magic), AE_MANIFEST_MAGIC))
        AE_FAIL(err, AE_ENOTOURS, "%s: not an aether vector table manifest", name);
    uint64_t format = 0, dim = 0, created = 0;
    if (get_u64(body, "format", &format) < 0)
        AE_FAIL(err, AE_ECORRUPT, "%s: manifest has no format version", name);
    if (format != AE_MANIFEST_FORMAT)
        AE_FAIL(err, AE_EVERSION, "%s: manifest format %" PRIu64 ", this build reads %d", name,
                format, AE_MANIFEST_FORMAT);
    if (get_u64(body, "version", &m->version) < 0 || get_str(body, "provider", &m->provider) < 0 ||
        get_str(body, "model", &m->model) < 0 || get_u64(body, "dim", &dim) < 0 ||
        get_u64(body, "created_at", &created) < 0 ||
        get_u64(body, "next_fragment_id", &m->next_fragment_id) < 0 || dim == 0 || dim > AE_MAX_DIM)
        AE_FAIL(err, AE_ECORRUPT, "%s: manifest is missing a field", name);
    m->dim = (uint32_t)dim;
    m->created_at = (int64_t)created;
    json_t *frags = json_object_get(body, "fragments");
    if (!json_is_array(frags)) AE_FAIL(err, AE_ECORRUPT, "%s: manifest has no fragment list", name);
    size_t nf = json_array_size(frags);
    m->fragments = ae_calloc_array(nf ? nf : 1, sizeof *m->fragments);
    if (!m->fragments) AE_FAIL(err, AE_ENOMEM, "out of memory reading %s", name);
    for (size_t i = 0; i < nf; i++) {
        json_t *fj = json_array_get(frags, i);
        ae_manifest_fragment *f = &m->fragments[i];
        m->n_fragments = i + 1;
        if (!json_is_object(fj) || get_u64(fj, "id", &f->id) < 0 ||
            get_u64(fj, "rows", &f->rows) < 0 || get_ref(fj, &f->data) < 0 ||
            f->id >= m->next_fragment_id || f->rows > UINT32_MAX)
            AE_FAIL(err, AE_ECORRUPT, "%s: fragment %zu is malformed", name, i);
        json_t *lj = json_object_get(fj, "layout");
        if (lj) {
            if (layout_from_json(lj, &f->layout) < 0)
                AE_FAIL(err, AE_ECORRUPT, "%s: layout of fragment %zu is malformed", name, i);
            f->has_layout = true;
        }
        json_t *dj = json_object_get(fj, "deletion");
        if (json_is_null(dj)) continue;
        if (!json_is_object(dj) || get_ref(dj, &f->deletion) < 0 ||
            get_u64(dj, "count", &f->deleted) < 0 || f->deleted > f->rows)
            AE_FAIL(err, AE_ECORRUPT, "%s: deletion file of fragment %zu is malformed", name, i);
    }
    json_t *ij = json_object_get(body, "index");
    if (ij && !json_is_null(ij)) {
        if (!json_is_object(ij) || get_ref(ij, &m->index.ref) < 0 ||
            get_u64(ij, "covers_version", &m->index.covers_version) < 0 ||
            get_u64(ij, "rows", &m->index.rows) < 0)
            AE_FAIL(err, AE_ECORRUPT, "%s: index slot is malformed", name);
        json_t *vj = json_object_get(ij, "verified");
        if (vj) {
            uint64_t ino = 0, mt = 0, ct = 0;
            if (get_u64(vj, "ino", &ino) < 0 || get_u64(vj, "mtime_ns", &mt) < 0 ||
                get_u64(vj, "ctime_ns", &ct) < 0)
                AE_FAIL(err, AE_ECORRUPT, "%s: index verification stamp is malformed", name);
            m->index.stamp = (ae_index_stamp){true, ino, (int64_t)mt, (int64_t)ct};
        }
        json_t *tj = json_object_get(ij, "tuned");
        if (tj) {
            ae_index_tuned *tu = &m->index.tuned;
            uint64_t k = 0, np = 0, rf = 0, sm = 0;
            json_t *tg = json_object_get(tj, "target"), *rc_ = json_object_get(tj, "recall");
            if (!json_is_number(tg) || !json_is_number(rc_) || get_u64(tj, "k", &k) < 0 ||
                get_u64(tj, "nprobe", &np) < 0 || get_u64(tj, "refine", &rf) < 0 ||
                get_u64(tj, "sample", &sm) < 0 || k > UINT32_MAX || np > UINT32_MAX ||
                rf > UINT32_MAX || sm > UINT32_MAX)
                AE_FAIL(err, AE_ECORRUPT, "%s: index tuning record is malformed", name);
            tu->set = true;
            tu->target = json_number_value(tg);
            tu->recall = json_number_value(rc_);
            tu->k = (uint32_t)k;
            tu->nprobe = (uint32_t)np;
            tu->refine = (uint32_t)rf;
            tu->sample = (uint32_t)sm;
        }
    }
cleanup:
    json_decref(trailer);
    json_decref(body);
    if (rc < 0) manifest_free(m);
    return rc;
}

int manifest_read(const char *path, ae_manifest *m, ae_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rbe");
    if (!f) return ae_fail_errno(err, errno, "open %s", path);
    ae_buf b = {0};
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (ae_buf_append(&b, chunk, n) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory reading %s", path);
            break;
        }
    }
    if (!rc && ferror(f)) rc = ae_fail(err, AE_EIO, "read %s failed", path);
    fclose(f);
    if (!rc) {
        const char *base = strrchr(path, '/');
        rc = manifest_decode(b.data ? b.data : "", b.len, base ? base + 1 : path, m, err);
    }
    ae_buf_free(&b);
    return rc;
}

static int copy_ref(const ae_file_ref *s, ae_file_ref *d)
{
    *d = *s;
    d->file = NULL;
    if (s->file && !(d->file = ae_strdup(s->file))) return -1;
    return 0;
}

int manifest_copy(const ae_manifest *src, ae_manifest *dst)
{
    *dst = *src;
    dst->provider = ae_strdup(src->provider);
    dst->model = ae_strdup(src->model);
    dst->fragments = ae_calloc_array(src->n_fragments + 1, sizeof *dst->fragments);
    dst->n_fragments = 0;
    dst->index.ref.file = NULL;
    if (!dst->provider || !dst->model || !dst->fragments) goto oom;
    for (size_t i = 0; i < src->n_fragments; i++) {
        dst->fragments[i] = src->fragments[i];
        dst->fragments[i].data.file = dst->fragments[i].deletion.file = NULL;
        dst->n_fragments = i + 1;
        if (copy_ref(&src->fragments[i].data, &dst->fragments[i].data) < 0 ||
            copy_ref(&src->fragments[i].deletion, &dst->fragments[i].deletion) < 0)
            goto oom;
    }
    if (copy_ref(&src->index.ref, &dst->index.ref) < 0) goto oom;
    return 0;
oom:
    manifest_free(dst);
    return AE_ENOMEM;
}

void manifest_free(ae_manifest *m)
{
    if (!m) return;
    free(m->provider);
    free(m->model);
    for (size_t i = 0; i < m->n_fragments; i++) {
        free(m->fragments[i].data.file);
        free(m->fragments[i].deletion.file);
    }
    free(m->fragments);
    free(m->index.ref.file);
    memset(m, 0, sizeof *m);
}

void manifest_name(uint64_t v, char out[64])
{
    snprintf(out, 64, "versions/%020" PRIu64 ".manifest", v);
}

int manifest_parse_name(const char *entry, uint64_t *v)
{
    if (strlen(entry) != 29 || strcmp(entry + 20, ".manifest")) return 0;
    uint64_t x = 0;
    for (int i = 0; i < 20; i++) {
        if (entry[i] < '0' || entry[i] > '9') return 0;
        x = x * 10 + (uint64_t)(entry[i] - '0');
    }
    *v = x;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int manifest_list(const char *table_dir, uint64_t **versions, size_t *n, ae_error *err)
{
    *versions = NULL;
    *n = 0;
    char *dir = ae_asprintf("%s/versions", table_dir);
    if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        free(dir);
        if (e == ENOENT) return 0;
        return ae_fail_errno(err, e, "open %s/versions", table_dir);
    }
    free(dir);
    uint64_t *vs = NULL;
    size_t len = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t v;
        if (!manifest_parse_name(de->d_name, &v)) continue;
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nv = ae_realloc_array(vs, cap, sizeof *vs);
            if (!nv) {
                free(vs);
                closedir(d);
                return ae_fail(err, AE_ENOMEM, "out of memory listing versions");
            }
            vs = nv;
        }
        vs[len++] = v;
    }
    closedir(d);
    if (len > 1) qsort(vs, len, sizeof *vs, cmp_u64);
    *versions = vs;
    *n = len;
    return 0;
}

int file_checksum(const char *path, char out[AE_CHECKSUM_HEX_LEN + 1], uint64_t *size,
                  ae_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ae_fail_errno(err, errno, "open %s", path);
    enum { CHUNK = 1 << 20 };
    char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return ae_fail(err, AE_ENOMEM, "out of memory checksumming %s", path);
    }
    ae_blake3 h;
    ae_blake3_init(&h);
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = ae_fail_errno(err, errno, "read %s", path);
            break;
        }
        if (r == 0) break;
        ae_blake3_update(&h, buf, (size_t)r);
        total += (uint64_t)r;
    }
    free(buf);
    close(fd);
    if (rc < 0) return rc;
    uint8_t digest[AE_BLAKE3_OUT_LEN];
    ae_blake3_final(&h, digest);
    ae_hex_encode(digest, sizeof digest, out);
    if (size) *size = total;
    return 0;
}
