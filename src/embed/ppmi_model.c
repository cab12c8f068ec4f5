/* The learned embedder's model file (.aether/models/<model>.bin).
 *
 * A model in memory *is* its file image: training lays the arrays out in one
 * heap block in file order, save writes that block (temp + fsync + rename),
 * load maps the file and points the same arrays into the mapping.
 *
 * Little-endian, sections 64-byte aligned:
 *
 *   OFFSET SIZE MEANING
 *   0      8    magic "AEPPMI\0\0"
 *   8      4    format version (1)
 *   12     4    header bytes (512)
 *   16     4    dim (output dimensions = k + hashed)
 *   20     4    hashed (dimensions of the feature-hashed part)
 *   24     4    k (dense dimensions)
 *   28     4    n_vocab
 *   32     4    n_slots (vocabulary hash index, a power of two >= 2 n_vocab)
 *   36     4    flags (bit 0: the common direction is removed)
 *   40     8    symbols trained on
 *   48     8    file bytes (trailer included)
 *   56     8    SVD seed
 *   64     4×4  min_df, max_vocab, max_doc_tokens, power_iters
 *   80     5×4  float32: cds, eig_power, shift, hashed_weight, oov_weight
 *   100    4    tokenizer version (EMBED_TOKENIZER_VERSION)
 *   104    8    pair budget
 *   112    8    token occurrences trained on
 *   120    8    of which outside the vocabulary
 *   128    96   6 × {offset u64, size u64}: the sections below, in order
 *   224    192  6 × BLAKE3-256 of each section's bytes
 *   416    32   BLAKE3-256 of header bytes [0, 416): the model's identity
 *   448    64   zero
 *   512    ...  sections
 *   end-32 32   trailer: the header digest again
 *
 *   sections: 0 strings (n_vocab NUL-terminated tokens, sorted bytewise),
 *   1 string offsets (n_vocab u32), 2 hash slots (n_slots u32: index + 1,
 *   0 empty; linear probing from ppmi_token_hash & (n_slots - 1)),
 *   3 weights (n_vocab f32), 4 common direction (k f32), 5 vectors
 *   (n_vocab × k f32, row-major).
 *
 * 1. Load checks the header, its digest, the trailer, the section bounds and
 *    the digests of sections 0-4 (small); section 5 (most of the file) only
 *    with verify_all, so a search process touches just the rows its query
 *    needs.  The indexer loads with verify_all.
 * 2. The model's name is "ppmi-<dim>-<first 8 hex of its identity>", the identity being
 *    BLAKE3 of what training was given and counted, not of the floats it computed:
 *    header bytes [0, 96) and [100, 128) (every parameter and count; oov_weight is
 *    computed) and the digests of sections 0-2 (vocabulary, offsets, hash slots).  Any
 *    change of data or parameters is a new name, hence a new vector table, while the same
 *    workspace trained on another CPU (whose BLAS kernels round differently) keeps its
 *    name.  The header digest still covers every byte, so corruption is caught. */
#include "embed/ppmi_internal.h"

#include "embed/embed_tokens.h"
#include "util/blake3.h"
#include "util/err.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODEL_MAGIC     "AEPPMI\0\0"
#define MODEL_VERSION   1
#define MODEL_HEADER    512
#define MODEL_TRAILER   32
#define MODEL_SECTIONS  6
#define OFF_SECTIONS    128
#define OFF_DIGESTS     224
#define OFF_HEADER_HASH 416
#define MODEL_ALIGN     64

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static void putf(unsigned char *p, float v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static float getf(const unsigned char *p)
{
    float v;
    memcpy(&v, p, 4);
    return v;
}

static size_t align_up(size_t x)
{
    return (x + MODEL_ALIGN - 1) & ~(size_t)(MODEL_ALIGN - 1);
}

/* Section sizes in bytes, from the counts. */
static void section_sizes(uint32_t k, uint32_t n_vocab, uint32_t n_slots, size_t strings_len,
                          uint64_t sz[MODEL_SECTIONS])
{
    sz[0] = strings_len;
    sz[1] = (uint64_t)n_vocab * 4;
    sz[2] = (uint64_t)n_slots * 4;
    sz[3] = (uint64_t)n_vocab * 4;
    sz[4] = (uint64_t)k * 4;
    sz[5] = (uint64_t)n_vocab * k * 4;
}

static void point_arrays(ppmi_model *m, const uint64_t off[MODEL_SECTIONS], size_t strings_len)
{
    unsigned char *b = m->image;
    m->strings = (const char *)b + off[0];
    m->strings_len = strings_len;
    m->str_off = (const uint32_t *)(const void *)(b + off[1]);
    m->slots = (const uint32_t *)(const void *)(b + off[2]);
    m->weight = (const float *)(const void *)(b + off[3]);
    m->common = (const float *)(const void *)(b + off[4]);
    m->vecs = (const float *)(const void *)(b + off[5]);
}

int ppmi_model_layout(ppmi_model *m, size_t strings_len, ae_error *err)
{
    uint64_t sz[MODEL_SECTIONS], off[MODEL_SECTIONS];
    section_sizes(m->k, m->n_vocab, m->n_slots, strings_len, sz);
    size_t pos = MODEL_HEADER;
    for (int i = 0; i < MODEL_SECTIONS; i++) {
        off[i] = pos;
        pos = align_up(pos + sz[i]);
    }
    size_t total = pos + MODEL_TRAILER;
    m->image = aligned_alloc(MODEL_ALIGN, align_up(total));
    AE_RETURN_IF(!m->image, err, AE_ENOMEM, "cannot allocate the embedding model (%zu MiB)",
                 total >> 20);
    memset(m->image, 0, align_up(total));
    m->image_len = total;
    m->mapped = false;
    point_arrays(m, off, strings_len);
    unsigned char *h = m->image;
    for (int i = 0; i < MODEL_SECTIONS; i++) {
        put64(h + OFF_SECTIONS + 16 * i, off[i]);
        put64(h + OFF_SECTIONS + 16 * i + 8, sz[i]);
    }
    return 0;
}

static void to_hex(const uint8_t *d, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < AE_BLAKE3_OUT_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * AE_BLAKE3_OUT_LEN] = '\0';
}

static void digest(const void *p, size_t n, uint8_t out[AE_BLAKE3_OUT_LEN])
{
    ae_blake3 h;
    ae_blake3_init(&h);
    ae_blake3_update(&h, p, n);
    ae_blake3_final(&h, out);
}

/* Note 2: the name part of the model. */
static void identity_hex(const unsigned char *h, char *out)
{
    ae_blake3 b;
    uint8_t d[AE_BLAKE3_OUT_LEN];
    ae_blake3_init(&b);
    ae_blake3_update(&b, h, 96);
    ae_blake3_update(&b, h + 100, OFF_SECTIONS - 100);
    ae_blake3_update(&b, h + OFF_DIGESTS, 3 * 32);
    ae_blake3_final(&b, d);
    to_hex(d, out);
}

void ppmi_model_compute_hash(ppmi_model *m)
{
    unsigned char *h = m->image;
    const ppmi_params *p = &m->p;
    memcpy(h, MODEL_MAGIC, 8);
    put32(h + 8, MODEL_VERSION);
    put32(h + 12, MODEL_HEADER);
    put32(h + 16, p->dim);
    put32(h + 20, p->hashed);
    put32(h + 24, m->k);
    put32(h + 28, m->n_vocab);
    put32(h + 32, m->n_slots);
    put32(h + 36, p->remove_common ? 1u : 0u);
    put64(h + 40, m->n_docs);
    put64(h + 48, m->image_len);
    put64(h + 56, p->seed);
    put32(h + 64, p->min_df);
    put32(h + 68, p->max_vocab);
    put32(h + 72, p->max_doc_tokens);
    put32(h + 76, p->power_iters);
    putf(h + 80, p->cds);
    putf(h + 84, p->eig_power);
    putf(h + 88, p->shift);
    putf(h + 92, p->hashed_weight);
    putf(h + 96, m->oov_weight);
    put32(h + 100, EMBED_TOKENIZER_VERSION);
    put64(h + 104, p->pair_budget);
    put64(h + 112, m->n_tokens);
    put64(h + 120, m->n_oov);
    for (int i = 0; i < MODEL_SECTIONS; i++) {
        uint64_t off = get64(h + OFF_SECTIONS + 16 * i), sz = get64(h + OFF_SECTIONS + 16 * i + 8);
        digest(h + off, (size_t)sz, h + OFF_DIGESTS + 32 * i);
    }
    digest(h, OFF_HEADER_HASH, h + OFF_HEADER_HASH);
    memcpy(h + m->image_len - MODEL_TRAILER, h + OFF_HEADER_HASH, MODEL_TRAILER);
    identity_hex(h, m->hash);
}

int ppmi_model_save(const ppmi_model *m, const char *path, ae_error *err)
{
    return ae_write_file_atomic(path, m->image, m->image_len, err);
}

void ppmi_model_free(ppmi_model *m)
{
    if (!m) return;
    if (m->mapped)
        munmap(m->image, m->image_len);
    else
        free(m->image);
    free(m);
}

#define CORRUPT(...) AE_FAIL(err, AE_ECORRUPT, __VA_ARGS__)

/* Everything but the vectors' digest (see note 1). */
static int check_image(ppmi_model *m, const char *path, int verify_all, ae_error *err)
{
    const unsigned char *h = m->image;
    size_t n = m->image_len;
    int rc = 0;
    uint8_t d[AE_BLAKE3_OUT_LEN];
    if (n < MODEL_HEADER + MODEL_TRAILER || memcmp(h, MODEL_MAGIC, 8) != 0)
        AE_FAIL(err, AE_ENOTOURS, "%s: not an aether embedding model (bad magic)", path);
    if (get32(h + 8) != MODEL_VERSION)
        AE_FAIL(err, AE_EVERSION, "%s: model format version %u, this build reads %u", path,
                get32(h + 8), MODEL_VERSION);
    digest(h, OFF_HEADER_HASH, d);
    if (memcmp(d, h + OFF_HEADER_HASH, 32) != 0) CORRUPT("%s: header checksum mismatch", path);
    if (get32(h + 12) != MODEL_HEADER || get64(h + 48) != n)
        CORRUPT("%s: file is %zu bytes, header says %llu", path, n,
                (unsigned long long)get64(h + 48));
    if (memcmp(h + n - MODEL_TRAILER, h + OFF_HEADER_HASH, MODEL_TRAILER) != 0)
        CORRUPT("%s: trailer does not match the header (torn write?)", path);
    if (get32(h + 100) != EMBED_TOKENIZER_VERSION)
        AE_FAIL(err, AE_EVERSION, "%s: model made with tokenizer version %u, this build has %u",
                path, get32(h + 100), EMBED_TOKENIZER_VERSION);
    ppmi_params *p = &m->p;
    p->dim = get32(h + 16);
    p->hashed = get32(h + 20);
    m->k = get32(h + 24);
    m->n_vocab = get32(h + 28);
    m->n_slots = get32(h + 32);
    p->remove_common = get32(h + 36) & 1;
    m->n_docs = get64(h + 40);
    p->seed = get64(h + 56);
    p->min_df = get32(h + 64);
    p->max_vocab = get32(h + 68);
    p->max_doc_tokens = get32(h + 72);
    p->power_iters = get32(h + 76);
    p->cds = getf(h + 80);
    p->eig_power = getf(h + 84);
    p->shift = getf(h + 88);
    p->hashed_weight = getf(h + 92);
    m->oov_weight = getf(h + 96);
    p->pair_budget = get64(h + 104);
    m->n_tokens = get64(h + 112);
    m->n_oov = get64(h + 120);
    if (p->dim == 0 || p->dim > 16384 || p->hashed >= p->dim || m->k != p->dim - p->hashed)
        CORRUPT("%s: bad dimensions (dim %u, hashed %u, k %u)", path, p->dim, p->hashed, m->k);
    if (m->n_slots != ppmi_slots_for(m->n_vocab))
        CORRUPT("%s: %u hash slots for %u tokens", path, m->n_slots, m->n_vocab);
    if (!isfinite(p->hashed_weight) || !isfinite(m->oov_weight))
        CORRUPT("%s: weights are not finite", path);
    uint64_t sz[MODEL_SECTIONS], off[MODEL_SECTIONS];
    uint64_t strings_len = get64(h + OFF_SECTIONS + 8);
    section_sizes(m->k, m->n_vocab, m->n_slots, (size_t)strings_len, sz);
    uint64_t end = MODEL_HEADER;
    for (int i = 0; i < MODEL_SECTIONS; i++) {
        off[i] = get64(h + OFF_SECTIONS + 16 * i);
        if (get64(h + OFF_SECTIONS + 16 * i + 8) != sz[i] || off[i] < end || off[i] % MODEL_ALIGN ||
            off[i] + sz[i] > n - MODEL_TRAILER || off[i] + sz[i] < off[i])
            CORRUPT("%s: section %d out of bounds", path, i);
        end = off[i] + sz[i];
        if (i < 5 || verify_all) {
            digest(h + off[i], (size_t)sz[i], d);
            if (memcmp(d, h + OFF_DIGESTS + 32 * i, 32) != 0)
                CORRUPT("%s: section %d checksum mismatch", path, i);
        }
    }
    if (verify_all) { /* padding between sections and before the trailer is zero */
        uint64_t pos = MODEL_HEADER;
        for (int i = 0; i <= MODEL_SECTIONS; i++) {
            uint64_t stop = i < MODEL_SECTIONS ? off[i] : n - MODEL_TRAILER;
            for (uint64_t b = pos; b < stop; b++)
                if (h[b]) CORRUPT("%s: nonzero padding at byte %llu", path, (unsigned long long)b);
            if (i < MODEL_SECTIONS) pos = off[i] + sz[i];
        }
        for (uint64_t b = OFF_HEADER_HASH + 32; b < MODEL_HEADER; b++)
            if (h[b])
                CORRUPT("%s: nonzero header padding at byte %llu", path, (unsigned long long)b);
    }
    point_arrays(m, off, (size_t)strings_len);
    /* offsets inside the strings, each string terminated; slots in range */
    for (uint32_t v = 0; v < m->n_vocab; v++) {
        uint32_t o = m->str_off[v];
        if (o >= strings_len || !memchr(m->strings + o, '\0', (size_t)(strings_len - o)))
            CORRUPT("%s: token %u out of bounds", path, v);
    }
    for (uint32_t s = 0; s < m->n_slots; s++)
        if (m->slots[s] > m->n_vocab) CORRUPT("%s: hash slot %u out of range", path, s);
    identity_hex(h, m->hash);
cleanup:
    return rc;
}

int ppmi_model_load(const char *path, int verify_all, ppmi_model **out, ae_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ae_fail_errno(err, errno, "open embedding model %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ae_fail_errno(err, e, "stat %s", path);
    }
    if (st.st_size < MODEL_HEADER + MODEL_TRAILER) {
        close(fd);
        return ae_fail(err, AE_ECORRUPT, "%s: %lld bytes is too short for a model", path,
                       (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return ae_fail_errno(err, e, "mmap %s", path);
    ppmi_model *m = calloc(1, sizeof *m);
    if (!m) {
        munmap(map, (size_t)st.st_size);
        return ae_fail(err, AE_ENOMEM, "out of memory loading %s", path);
    }
    m->image = map;
    m->image_len = (size_t)st.st_size;
    m->mapped = true;
    int rc = check_image(m, path, verify_all, err);
    if (rc < 0) {
        ppmi_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

uint32_t ppmi_model_dim(const ppmi_model *m)
{
    return m->p.dim;
}

void ppmi_model_stats(const ppmi_model *m, uint64_t *symbols, uint64_t *tokens, uint64_t *oov)
{
    *symbols = m->n_docs;
    *tokens = m->n_tokens;
    *oov = m->n_oov;
}

uint32_t ppmi_model_vocab(const ppmi_model *m)
{
    return m->n_vocab;
}

const char *ppmi_model_hash(const ppmi_model *m)
{
    return m->hash;
}

int64_t ppmi_model_lookup(const ppmi_model *m, const char *tok, size_t len)
{
    if (!m->n_vocab) return -1;
    uint32_t mask = m->n_slots - 1, j = (uint32_t)ppmi_token_hash(tok, len) & mask;
    for (uint32_t probes = 0; probes < m->n_slots && m->slots[j]; probes++) {
        uint32_t v = m->slots[j] - 1;
        const char *s = m->strings + m->str_off[v];
        if (!strncmp(s, tok, len) && s[len] == '\0') return v;
        j = (j + 1) & mask;
    }
    return -1;
}
