/* The "mock" provider: bit-for-bit the reference tool's mock embeddings.
 *
 * 1. Tokens are maximal runs of ASCII alphanumerics, lowercased; every other
 *    byte (including UTF-8 multibyte sequences) is a separator.
 * 2. Each token adds +1 or -1 at FNV-1a(token) % 64; the sign is bit 8 of the
 *    hash (0 -> +1).
 * 3. Arithmetic is float32 throughout (sum of squares, sqrtf, divide), as the
 *    reference does it, so normalised values match to the last bit. */
#include "embed/embed_provider.h"

#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <string.h>

static int is_alnum_ascii(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void embed_mock_vector(const char *text, float out[AE_EMBED_MOCK_DIM])
{
    memset(out, 0, sizeof(float) * AE_EMBED_MOCK_DIM);
    const unsigned char *s = (const unsigned char *)text;
    int any = 0;
    while (*s) {
        if (!is_alnum_ascii(*s)) {
            s++;
            continue;
        }
        uint64_t h = 0xcbf29ce484222325ULL;
        for (; is_alnum_ascii(*s); s++) {
            unsigned char c = (*s >= 'A' && *s <= 'Z') ? (unsigned char)(*s + 32) : *s;
            h ^= c;
            h *= 0x100000001b3ULL;
        }
        out[h % AE_EMBED_MOCK_DIM] += ((h >> 8) & 1) ? -1.0f : 1.0f;
        any = 1;
    }
    if (!any) return;
    float sum = 0.0f;
    for (int i = 0; i < AE_EMBED_MOCK_DIM; i++)
        sum += out[i] * out[i];
    float norm = sqrtf(sum);
    if (norm == 0.0f) return; /* every token cancelled out: already all zeros */
    for (int i = 0; i < AE_EMBED_MOCK_DIM; i++)
        out[i] /= norm;
}

static int mock_embed(ae_embedder *e, const char *const *texts, size_t n, float *out, ae_error *err)
{
    for (size_t i = 0; i < n; i++)
        embed_mock_vector(texts[i], out + i * AE_EMBED_MOCK_DIM);
    return 0;
}

static const ae_embedder_ops mock_ops = {mock_embed, NULL};

int embed_mock_open(const ae_embed_options *o, ae_embedder *e, ae_error *err)
{
    /* dim is the hash provider's knob; mock is always 64 wide. */
    AE_RETURN_IF(o->model && *o->model && strcmp(o->model, AE_EMBED_MOCK_MODEL) != 0, err,
                 AE_EINVAL, "provider 'mock' has model '%s', not '%s'", AE_EMBED_MOCK_MODEL,
                 o->model);
    e->model = ae_strdup(AE_EMBED_MOCK_MODEL);
    AE_RETURN_IF(!e->model, err, AE_ENOMEM, "out of memory opening embedder 'mock'");
    e->dim = AE_EMBED_MOCK_DIM;
    e->ops = &mock_ops;
    return 0;
}
