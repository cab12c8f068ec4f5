/* Embedding a text with a learned model.
 *
 * 1. The text's sub-tokens (embed_tokens.h, the first EMBED_DOC_TOKENS_MAX)
 *    are counted; each distinct token weighs idf * (1 + log tf).
 * 2. Dense part: the weighted sum of the tokens' vectors, normalised, minus
 *    its projection on the model's common direction (the direction every
 *    symbol shares, SIF's "common component"), normalised again.
 * 3. Hashed part (when the model has one): the same weights, signed-hashed
 *    into `hashed` dimensions, normalised and scaled by hashed_weight, so a
 *    rare exact word (an identifier the vocabulary dropped) still matches.
 * 4. The result is normalised: cosine = (dense cos + w^2 hashed cos) / (1 + w^2).
 * 5. Sums run over tokens sorted by hash, so the result does not depend on
 *    the order words appear in. */
#include "embed/ppmi_internal.h"

#include "embed/embed_tokens.h"
#include "util/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct occ {
    uint64_t h;
    int64_t v; /* vocabulary index or -1 */
} occ;

typedef struct walk {
    const ppmi_model *m;
    occ *o;
    size_t n, cap;
} walk;

static int on_token(const char *tok, size_t len, void *ctx)
{
    walk *w = ctx;
    if (w->n == w->cap) return -1;
    w->o[w->n].h = ppmi_token_hash(tok, len);
    w->o[w->n].v = ppmi_model_lookup(w->m, tok, len);
    w->n++;
    return 0;
}

static int cmp_occ(const void *a, const void *b)
{
    const occ *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static void normalise(float *x, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    if (s <= 0) return;
    float inv = (float)(1.0 / sqrt(s));
    for (uint32_t i = 0; i < n; i++)
        x[i] *= inv;
}

int ppmi_embed(const ppmi_model *m, const char *text, size_t len, float *out, ae_error *err)
{
    uint64_t tokens, oov;
    return ppmi_embed_counted(m, text, len, out, &tokens, &oov, err);
}

int ppmi_embed_counted(const ppmi_model *m, const char *text, size_t len, float *out,
                       uint64_t *tokens, uint64_t *oov, ae_error *err)
{
    uint32_t k = m->k, hd = m->p.hashed;
    memset(out, 0, (size_t)m->p.dim * sizeof *out);
    occ stack[256];
    walk w = {.m = m, .o = stack, .cap = sizeof stack / sizeof stack[0]};
    occ *heap = NULL;
    /* count tokens first: most texts fit the stack buffer */
    embed_tokenize(text, len, on_token, &w);
    if (w.n == w.cap) {
        heap = malloc(EMBED_DOC_TOKENS_MAX * sizeof *heap);
        AE_RETURN_IF(!heap, err, AE_ENOMEM, "out of memory embedding a %zu-byte text", len);
        w = (walk){.m = m, .o = heap, .cap = EMBED_DOC_TOKENS_MAX};
        embed_tokenize(text, len, on_token, &w);
    }
    qsort(w.o, w.n, sizeof *w.o, cmp_occ);
    *tokens = w.n;
    *oov = 0;
    for (size_t i = 0; i < w.n; i++)
        *oov += w.o[i].v < 0;
    float *dense = out, *hashed = out + k;
    bool any_dense = false;
    for (size_t i = 0; i < w.n;) {
        size_t j = i;
        while (j < w.n && w.o[j].h == w.o[i].h && w.o[j].v == w.o[i].v)
            j++;
        float tfw = 1.0f + logf((float)(j - i));
        int64_t v = w.o[i].v;
        float idf = v >= 0 ? m->weight[v] : m->oov_weight;
        if (v >= 0) {
            const float *row = m->vecs + (size_t)v * k;
            float wt = idf * tfw;
            for (uint32_t d = 0; d < k; d++)
                dense[d] += wt * row[d];
            any_dense = true;
        }
        if (hd) {
            uint64_t h = w.o[i].h;
            float *slot = &hashed[(h >> 1) % hd];
            *slot += (h & 1) ? -idf * tfw : idf * tfw;
        }
        i = j;
    }
    free(heap);
    if (any_dense) {
        normalise(dense, k);
        if (m->p.remove_common) {
            double dot = 0;
            for (uint32_t d = 0; d < k; d++)
                dot += (double)dense[d] * m->common[d];
            for (uint32_t d = 0; d < k; d++)
                dense[d] -= (float)dot * m->common[d];
            normalise(dense, k);
        }
    }
    if (hd) {
        normalise(hashed, hd);
        for (uint32_t d = 0; d < hd; d++)
            hashed[d] *= m->p.hashed_weight;
    }
    normalise(out, m->p.dim);
    /* -0.0 and denormal noise are fine for cosine; NaN cannot occur (sums of finite) */
    return 0;
}
