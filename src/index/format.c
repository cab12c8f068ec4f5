/* The IVF-PQ file: layout, writer, and the cheap open (the table of offsets is
 * in ivfpq_internal.h and docs/FORMAT.md, "IVF-PQ index file").
 *
 * 1. Open maps the file and checks only what is O(header + nlist): magic,
 *    version, the header's BLAKE3, sizes implied by dim/nlist/m/rows, section
 *    bounds and alignment, list offsets monotone, and the trailer.  The big
 *    sections (codes, row ids) are checked by ae_ivfpq_fsck, so a fresh
 *    process answers its first query after touching a few pages.
 * 2. Search never trusts a row id: ids >= rows are skipped, so a corrupt file
 *    that passes open cannot make it read outside the source.
 * 3. The whole file is built in memory and written with temp + fsync + rename:
 *    readers see the old index or the new one.  Rejected: writing sections in
 *    place, which would need its own crash story for a file that is cheap to
 *    rebuild. */
#include "index/ivfpq_internal.h"

#include "util/blake3.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/pagecache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the IVF-PQ file format is little-endian; add byte swapping for this target"
#endif

static const char *const SECTION_NAME[IVFPQ_NSECTIONS] = {
    "centroids", "centroid norms", "codebooks", "list offsets", "row ids", "codes"};

static uint64_t align_up(uint64_t v)
{
    return (v + IVFPQ_ALIGN - 1) & ~(uint64_t)(IVFPQ_ALIGN - 1);
}

void ivfpq_hash(const void *p, size_t n, uint8_t out[IVFPQ_HASH_BYTES])
{
    ae_blake3 h;
    ae_blake3_init(&h);
    ae_blake3_update(&h, p, n);
    ae_blake3_final(&h, out);
}

/* Expected section sizes for these dimensions; false on overflow. */
static bool section_sizes(uint32_t dim, uint32_t nlist, uint32_t m, uint64_t rows,
                          uint64_t code_blocks, uint64_t size[IVFPQ_NSECTIONS])
{
    size[IVFPQ_SEC_CENTROIDS] = (uint64_t)nlist * dim * 4;
    size[IVFPQ_SEC_CNORMS] = (uint64_t)nlist * 4;
    size[IVFPQ_SEC_CODEBOOKS] = (uint64_t)AE_IVFPQ_KSUB * dim * 4;
    size[IVFPQ_SEC_LISTS] = ((uint64_t)nlist + 1) * 8;
    if (rows > AE_IVFPQ_MAX_ROWS) return false;
    size[IVFPQ_SEC_IDS] = rows * 4;
    uint64_t c;
    if (__builtin_mul_overflow(code_blocks, (uint64_t)m * IVFPQ_BLOCK, &c)) return false;
    size[IVFPQ_SEC_CODES] = c;
    return true;
}

int ivfpq_write(const ivfpq_image *im, const char *path, ae_error *err)
{
    uint64_t blocks = 0;
    for (uint32_t l = 0; l < im->nlist; l++)
        blocks += ivfpq_blocks(im->list_off[l + 1] - im->list_off[l]);
    uint64_t size[IVFPQ_NSECTIONS], off[IVFPQ_NSECTIONS];
    AE_RETURN_IF(!section_sizes(im->dim, im->nlist, im->m, im->rows, blocks, size), err, AE_EINVAL,
                 "%s: index too large", path);
    uint64_t pos = IVFPQ_HEADER_BYTES;
    for (int s = 0; s < IVFPQ_NSECTIONS; s++) {
        off[s] = pos;
        pos = align_up(pos + size[s]);
    }
    uint64_t total = pos + IVFPQ_HASH_BYTES;
    AE_RETURN_IF(total > SIZE_MAX, err, AE_ENOMEM, "%s: %llu bytes do not fit in memory", path,
                 (unsigned long long)total);
    uint8_t *buf = calloc(1, (size_t)total);
    AE_RETURN_IF(!buf, err, AE_ENOMEM, "%s: out of memory for %llu bytes", path,
                 (unsigned long long)total);

    memcpy(buf + off[IVFPQ_SEC_CENTROIDS], im->centroids, size[IVFPQ_SEC_CENTROIDS]);
    memcpy(buf + off[IVFPQ_SEC_CNORMS], im->cnorms, size[IVFPQ_SEC_CNORMS]);
    memcpy(buf + off[IVFPQ_SEC_CODEBOOKS], im->codebooks, size[IVFPQ_SEC_CODEBOOKS]);
    memcpy(buf + off[IVFPQ_SEC_LISTS], im->list_off, size[IVFPQ_SEC_LISTS]);
    memcpy(buf + off[IVFPQ_SEC_IDS], im->ids, size[IVFPQ_SEC_IDS]);
    /* codes: row-major per list -> 64-vector blocks, transposed */
    uint8_t *codes = buf + off[IVFPQ_SEC_CODES];
    uint64_t block = 0;
    size_t bb = (size_t)im->m * IVFPQ_BLOCK;
    for (uint32_t l = 0; l < im->nlist; l++) {
        uint64_t lo = im->list_off[l], len = im->list_off[l + 1] - lo;
        for (uint64_t i = 0; i < len; i++) {
            uint8_t *blk = codes + (block + i / IVFPQ_BLOCK) * bb;
            const uint8_t *src = im->codes_rows + (lo + i) * im->m;
            for (uint32_t j = 0; j < im->m; j++)
                blk[(size_t)j * IVFPQ_BLOCK + i % IVFPQ_BLOCK] = src[j];
        }
        block += ivfpq_blocks(len);
    }

    memcpy(buf + IVFPQ_OFF_MAGIC, IVFPQ_MAGIC, sizeof IVFPQ_MAGIC); /* 7 chars + NUL = 8 bytes */
    ae_put_le32(buf + IVFPQ_OFF_VERSION, IVFPQ_VERSION);
    ae_put_le32(buf + IVFPQ_OFF_HEADER_SIZE, IVFPQ_HEADER_BYTES);
    ae_put_le32(buf + IVFPQ_OFF_DIM, im->dim);
    ae_put_le32(buf + IVFPQ_OFF_NLIST, im->nlist);
    ae_put_le32(buf + IVFPQ_OFF_M, im->m);
    ae_put_le32(buf + IVFPQ_OFF_KSUB, AE_IVFPQ_KSUB);
    ae_put_le64(buf + IVFPQ_OFF_ROWS, im->rows);
    ae_put_le64(buf + IVFPQ_OFF_FILE_BYTES, total);
    ae_put_le32(buf + IVFPQ_OFF_BLOCK, IVFPQ_BLOCK);
    ae_put_le64(buf + IVFPQ_OFF_SEED, im->seed);
    for (int s = 0; s < IVFPQ_NSECTIONS; s++) {
        ae_put_le64(buf + IVFPQ_OFF_SECTIONS + IVFPQ_SECTION_ENTRY * s, off[s]);
        ae_put_le64(buf + IVFPQ_OFF_SECTIONS + IVFPQ_SECTION_ENTRY * s + 8, size[s]);
        ivfpq_hash(buf + off[s], size[s], buf + IVFPQ_OFF_SECTION_HASHES + IVFPQ_HASH_BYTES * s);
    }
    ivfpq_hash(buf, IVFPQ_OFF_HEADER_HASH, buf + IVFPQ_OFF_HEADER_HASH);
    memcpy(buf + total - IVFPQ_HASH_BYTES, buf + IVFPQ_OFF_HEADER_HASH, IVFPQ_HASH_BYTES);
    int rc = ae_write_file_atomic(path, buf, (size_t)total, err);
    free(buf);
    return rc;
}

#define CORRUPT(...)                                                                               \
    do {                                                                                           \
        rc = ae_fail(err, AE_ECORRUPT, __VA_ARGS__);                                               \
        goto cleanup;                                                                              \
    } while (0)

int ae_ivfpq_open(const char *path, ae_ivfpq **out, ae_error *err)
{
    AE_RETURN_IF(!path || !out, err, AE_EINVAL, "no index path");
    *out = NULL;
    int rc = 0;
    void *map = MAP_FAILED;
    size_t bytes = 0;
    ae_ivfpq *ix = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return ae_fail_errno(err, errno, "open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = ae_fail_errno(err, errno, "stat %s", path);
        goto cleanup;
    }
    bytes = (size_t)st.st_size;
    if (bytes < 8) CORRUPT("%s: %zu bytes is too short for an index file", path, bytes);
    map = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = ae_fail_errno(err, errno, "mmap %s", path);
        goto cleanup;
    }
    /* random: a query reads the header, the small sections and a few lists,
     * never the whole file (util/pagecache.h) */
    ae_pc_advise(map, bytes, false);
    const uint8_t *h = map;
    if (memcmp(h + IVFPQ_OFF_MAGIC, IVFPQ_MAGIC, sizeof IVFPQ_MAGIC) != 0) {
        rc = ae_fail(err, AE_ENOTOURS, "%s: not an aether IVF-PQ index (bad magic)", path);
        goto cleanup;
    }
    if (bytes < IVFPQ_HEADER_BYTES + IVFPQ_HASH_BYTES)
        CORRUPT("%s: truncated: %zu bytes, the header alone is %u", path, bytes,
                IVFPQ_HEADER_BYTES);
    uint32_t version = ae_get_le32(h + IVFPQ_OFF_VERSION);
    if (version != IVFPQ_VERSION) {
        rc = ae_fail(err, AE_EVERSION, "%s: index format version %u, this build reads %u", path,
                     version, IVFPQ_VERSION);
        goto cleanup;
    }
    uint8_t hh[IVFPQ_HASH_BYTES];
    ivfpq_hash(h, IVFPQ_OFF_HEADER_HASH, hh);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* let fuzzers past the checksum */
    if (memcmp(hh, h + IVFPQ_OFF_HEADER_HASH, IVFPQ_HASH_BYTES) != 0)
        CORRUPT("%s: header checksum mismatch", path);
#endif
    if (ae_get_le64(h + IVFPQ_OFF_FILE_BYTES) != bytes)
        CORRUPT("%s: truncated or extended: %zu bytes, header says %llu", path, bytes,
                (unsigned long long)ae_get_le64(h + IVFPQ_OFF_FILE_BYTES));
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    if (memcmp(h + bytes - IVFPQ_HASH_BYTES, hh, IVFPQ_HASH_BYTES) != 0)
        CORRUPT("%s: trailer checksum does not match the header", path);
#endif

    ix = calloc(1, sizeof *ix);
    if (!ix) AE_FAIL(err, AE_ENOMEM, "out of memory");
    ix->dim = ae_get_le32(h + IVFPQ_OFF_DIM);
    ix->nlist = ae_get_le32(h + IVFPQ_OFF_NLIST);
    ix->m = ae_get_le32(h + IVFPQ_OFF_M);
    ix->rows = ae_get_le64(h + IVFPQ_OFF_ROWS);
    ix->seed = ae_get_le64(h + IVFPQ_OFF_SEED);
    if (ae_get_le32(h + IVFPQ_OFF_HEADER_SIZE) != IVFPQ_HEADER_BYTES ||
        ae_get_le32(h + IVFPQ_OFF_KSUB) != AE_IVFPQ_KSUB ||
        ae_get_le32(h + IVFPQ_OFF_BLOCK) != IVFPQ_BLOCK)
        CORRUPT("%s: unexpected header size, ksub or block size", path);
    if (ix->dim < AE_IVFPQ_MIN_DIM || ix->dim > AE_MAX_DIM || ix->nlist < 1 ||
        ix->nlist > AE_IVFPQ_MAX_NLIST || ix->m < 1 || ix->m > AE_IVFPQ_MAX_M || ix->dim % ix->m ||
        ix->rows > AE_IVFPQ_MAX_ROWS)
        CORRUPT("%s: bad dimensions: dim %u, nlist %u, m %u, rows %llu", path, ix->dim, ix->nlist,
                ix->m, (unsigned long long)ix->rows);
    ix->dsub = ix->dim / ix->m;
    uint64_t prev_end = IVFPQ_HEADER_BYTES;
    for (int s = 0; s < IVFPQ_NSECTIONS; s++) {
        uint64_t o = ae_get_le64(h + IVFPQ_OFF_SECTIONS + IVFPQ_SECTION_ENTRY * s);
        uint64_t z = ae_get_le64(h + IVFPQ_OFF_SECTIONS + IVFPQ_SECTION_ENTRY * s + 8);
        if (o % IVFPQ_ALIGN || o < prev_end || o > bytes - IVFPQ_HASH_BYTES ||
            z > bytes - IVFPQ_HASH_BYTES - o)
            CORRUPT("%s: %s section [%llu, +%llu) out of bounds", path, SECTION_NAME[s],
                    (unsigned long long)o, (unsigned long long)z);
        ix->sec_off[s] = o;
        ix->sec_size[s] = z;
        prev_end = o + z;
    }
    /* every query reads centroids, norms, codebooks and list offsets: ask
     * for them in one go (they are contiguous, before the ids and codes).
     * The probe is the last page of that range (not read yet: the list
     * offsets are checked below): the first one holds the header just read,
     * resident however cold the rest is -- probing it sent 1M x 768's 3.8 MB
     * of centroids and codebooks through ~940 one-page faults in a row */
    if (ix->sec_off[IVFPQ_SEC_IDS] > IVFPQ_HEADER_BYTES &&
        !ae_pc_resident(h + ix->sec_off[IVFPQ_SEC_IDS] - 1))
        ae_pc_willneed(h + IVFPQ_HEADER_BYTES, ix->sec_off[IVFPQ_SEC_IDS] - IVFPQ_HEADER_BYTES);
    /* list offsets, then the block index computed from them */
    const uint64_t *lists = (const uint64_t *)(h + ix->sec_off[IVFPQ_SEC_LISTS]);
    if (ix->sec_size[IVFPQ_SEC_LISTS] != ((uint64_t)ix->nlist + 1) * 8)
        CORRUPT("%s: list offsets section is %llu bytes, expected %llu", path,
                (unsigned long long)ix->sec_size[IVFPQ_SEC_LISTS],
                ((unsigned long long)ix->nlist + 1) * 8);
    ix->block_off = ae_calloc_array((size_t)ix->nlist + 1, sizeof *ix->block_off);
    if (!ix->block_off) AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (lists[0] != 0 || lists[ix->nlist] != ix->rows)
        CORRUPT("%s: list offsets do not span the %llu rows", path, (unsigned long long)ix->rows);
    for (uint32_t l = 0; l < ix->nlist; l++) {
        if (lists[l + 1] < lists[l] || lists[l + 1] > ix->rows)
            CORRUPT("%s: list %u offsets decrease or exceed the rows", path, l);
        ix->block_off[l + 1] = ix->block_off[l] + ivfpq_blocks(lists[l + 1] - lists[l]);
    }
    uint64_t want[IVFPQ_NSECTIONS];
    if (!section_sizes(ix->dim, ix->nlist, ix->m, ix->rows, ix->block_off[ix->nlist], want))
        CORRUPT("%s: section sizes overflow", path);
    for (int s = 0; s < IVFPQ_NSECTIONS; s++)
        if (want[s] != ix->sec_size[s])
            CORRUPT("%s: %s section is %llu bytes, expected %llu", path, SECTION_NAME[s],
                    (unsigned long long)ix->sec_size[s], (unsigned long long)want[s]);
    ix->path = ae_strdup(path);
    if (!ix->path) AE_FAIL(err, AE_ENOMEM, "out of memory");
    ix->map = map;
    ix->map_bytes = bytes;
    ix->centroids = (const float *)(h + ix->sec_off[IVFPQ_SEC_CENTROIDS]);
    ix->cnorms = (const float *)(h + ix->sec_off[IVFPQ_SEC_CNORMS]);
    ix->codebooks = (const float *)(h + ix->sec_off[IVFPQ_SEC_CODEBOOKS]);
    ix->list_off = lists;
    ix->ids = (const uint32_t *)(h + ix->sec_off[IVFPQ_SEC_IDS]);
    ix->codes = h + ix->sec_off[IVFPQ_SEC_CODES];
    *out = ix;
    ix = NULL;
    map = MAP_FAILED;
cleanup:
    if (ix) {
        free(ix->block_off);
        free(ix->path);
        free(ix);
    }
    if (map != MAP_FAILED) munmap(map, bytes);
    close(fd);
    return rc;
}

void ae_ivfpq_close(ae_ivfpq *ix)
{
    if (!ix) return;
    munmap((void *)ix->map, ix->map_bytes);
    uint16_t *h = atomic_load(&ix->centroids_h);
    if (h) munmap(h, ivfpq_centroids_f16_bytes(ix));
    free(ix->block_off);
    free(ix->path);
    free(ix);
}

size_t ae_ivfpq_rows_covered(const ae_ivfpq *ix)
{
    return ix ? (size_t)ix->rows : 0;
}
uint32_t ae_ivfpq_dim(const ae_ivfpq *ix)
{
    return ix ? ix->dim : 0;
}
uint32_t ae_ivfpq_nlist(const ae_ivfpq *ix)
{
    return ix ? ix->nlist : 0;
}
uint32_t ae_ivfpq_m(const ae_ivfpq *ix)
{
    return ix ? ix->m : 0;
}
size_t ae_ivfpq_file_bytes(const ae_ivfpq *ix)
{
    return ix ? ix->map_bytes : 0;
}

const char *ivfpq_section_name(int s)
{
    return SECTION_NAME[s];
}
