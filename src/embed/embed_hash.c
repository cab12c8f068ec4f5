/* The "hash" provider ("hash-v1"): offline embeddings that know what code
 * identifiers look like.
 *
 * 1. Text splits into identifiers (runs of ASCII alphanumerics, '_' and any
 *    byte >= 0x80); each identifier splits into sub-words at '_', lower->Upper,
 *    letter<->digit and the end of an acronym (HTTPServer -> http server), so
 *    parseConfigFile, parse_config_file and ParseConfig share sub-words.
 * 2. Features, each hashed with a distinct tag so they never alias by name:
 *    sub-word (weight 1.0), whole identifier without underscores (0.5, only when
 *    it has more than one sub-word), and boundary-marked trigrams of every
 *    sub-word ("^pa" "par" ... "se$", 0.3 each) for near-miss spellings.
 * 3. Noise that every SIR document carries is skipped: the canonical JSON key
 *    names, pure numbers (confidence values) and a handful of English stopwords.
 * 4. Signed feature hashing: h = mix(FNV-1a(tag, bytes)); index h % dim, sign
 *    from bit 40.  Sums run in a fixed order in float32 without multiplies, then
 *    an L2 normalise in double, so vectors are identical across runs, compilers
 *    and platforms. */
#include "embed/embed_provider.h"

#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <string.h>

#define W_SUBWORD    1.0f
#define W_IDENTIFIER 0.5f
#define W_TRIGRAM    0.3f

enum { TAG_SUBWORD = 'w', TAG_IDENTIFIER = 'i', TAG_TRIGRAM = 't' };

static const char *const skip_words[] = {
    /* canonical SIR JSON keys */
    "confidence", "dependencies", "error_modes", "inputs", "intent", "outputs", "side_effects",
    /* JSON literals and English glue */
    "true", "false", "null", "a", "an", "the", "of", "to", "and", "or", "in", "on", "for", "that",
    "this", "with", "is", "are", "it", "its", "by", "from", "as", "be"};

static int is_ident_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

static int is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Lowercase letters and non-ASCII bytes count as "lower" for camelCase splits. */
static int is_lowerish(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || c >= 0x80;
}

static unsigned char lower(unsigned char c)
{
    return is_upper(c) ? (unsigned char)(c + 32) : c;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* splitmix64's finaliser: spreads FNV's weak low bits over the whole word. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static void add_feature(float *out, uint32_t dim, uint64_t h, float w)
{
    h = mix(h);
    float *slot = &out[h % dim];
    if ((h >> 40) & 1)
        *slot -= w;
    else
        *slot += w;
}

static int is_skip_word(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < sizeof skip_words / sizeof skip_words[0]; i++) {
        const char *w = skip_words[i];
        if (strlen(w) != n) continue;
        size_t k = 0;
        while (k < n && lower(s[k]) == (unsigned char)w[k])
            k++;
        if (k == n) return 1;
    }
    return 0;
}

static void add_subword(float *out, uint32_t dim, const unsigned char *s, size_t n)
{
    uint64_t h = fnv_byte(FNV_OFFSET, TAG_SUBWORD);
    for (size_t i = 0; i < n; i++)
        h = fnv_byte(h, lower(s[i]));
    add_feature(out, dim, h, W_SUBWORD);

    /* trigrams of "^" + s + "$": positions 0 .. n-1 of the n + 2 marked bytes */
    for (size_t k = 0; k + 3 <= n + 2; k++) {
        uint64_t t = fnv_byte(FNV_OFFSET, TAG_TRIGRAM);
        for (size_t j = k; j < k + 3; j++) {
            unsigned char c = j == 0 ? '^' : j == n + 1 ? '$' : lower(s[j - 1]);
            t = fnv_byte(t, c);
        }
        add_feature(out, dim, t, W_TRIGRAM);
    }
}

/* Is there a sub-word boundary between s[i-1] and s[i]?  (s[i] is not '_'.) */
static int boundary(const unsigned char *s, size_t n, size_t i)
{
    unsigned char a = s[i - 1], b = s[i];
    if (is_digit(a) != is_digit(b)) return 1;
    if (is_lowerish(a) && is_upper(b)) return 1;
    /* HTTPServer: split before the 'S' that starts a capitalised word */
    if (is_upper(a) && is_upper(b) && i + 1 < n && is_lowerish(s[i + 1])) return 1;
    return 0;
}

static void add_identifier(float *out, uint32_t dim, const unsigned char *s, size_t n)
{
    int all_digits = 1;
    for (size_t i = 0; i < n && all_digits; i++)
        if (!is_digit(s[i]) && s[i] != '_') all_digits = 0;
    if (all_digits || is_skip_word(s, n)) return;

    size_t subwords = 0;
    size_t i = 0;
    while (i < n) {
        if (s[i] == '_') {
            i++;
            continue;
        }
        size_t start = i++;
        while (i < n && s[i] != '_' && !boundary(s, n, i))
            i++;
        add_subword(out, dim, s + start, i - start);
        subwords++;
    }
    if (subwords > 1) {
        uint64_t h = fnv_byte(FNV_OFFSET, TAG_IDENTIFIER);
        for (size_t k = 0; k < n; k++)
            if (s[k] != '_') h = fnv_byte(h, lower(s[k]));
        add_feature(out, dim, h, W_IDENTIFIER);
    }
}

void embed_hash_vector(const char *text, uint32_t dim, float *out)
{
    memset(out, 0, sizeof(float) * dim);
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        if (!is_ident_byte(*s)) {
            s++;
            continue;
        }
        const unsigned char *start = s;
        while (*s && is_ident_byte(*s))
            s++;
        add_identifier(out, dim, start, (size_t)(s - start));
    }
    double sum = 0.0;
    for (uint32_t i = 0; i < dim; i++)
        sum += (double)out[i] * out[i];
    if (sum == 0.0) {
        memset(out, 0, sizeof(float) * dim); /* also clears -0.0 */
        return;
    }
    double norm = sqrt(sum);
    for (uint32_t i = 0; i < dim; i++)
        out[i] = (float)(out[i] / norm);
}

static int hash_embed(ae_embedder *e, const char *const *texts, size_t n, float *out, ae_error *err)
{
    for (size_t i = 0; i < n; i++)
        embed_hash_vector(texts[i], e->dim, out + i * (size_t)e->dim);
    return 0;
}

static const ae_embedder_ops hash_ops = {hash_embed, NULL};

int embed_hash_open(const ae_embed_options *o, ae_embedder *e, ae_error *err)
{
    AE_RETURN_IF(o->model && *o->model && strcmp(o->model, AE_EMBED_HASH_MODEL) != 0, err,
                 AE_EINVAL, "provider 'hash' has model '%s', not '%s'", AE_EMBED_HASH_MODEL,
                 o->model);
    int dim = o->dim ? o->dim : AE_EMBED_HASH_DEFAULT_DIM;
    AE_RETURN_IF(dim < AE_EMBED_HASH_MIN_DIM || dim > AE_MAX_DIM, err, AE_EINVAL,
                 "hash embedding dim must be between %d and %d, not %d", AE_EMBED_HASH_MIN_DIM,
                 AE_MAX_DIM, dim);
    e->model = ae_strdup(AE_EMBED_HASH_MODEL);
    AE_RETURN_IF(!e->model, err, AE_ENOMEM, "out of memory opening embedder 'hash'");
    e->dim = (uint32_t)dim;
    e->ops = &hash_ops;
    return 0;
}
