/* Shared by ppmi_train.c, ppmi_svd.c, ppmi_embed.c and ppmi_model.c. */
#ifndef AE_EMBED_PPMI_INTERNAL_H
#define AE_EMBED_PPMI_INTERNAL_H

#include "embed/ppmi.h"

#include <stdbool.h>

#define PPMI_HASH_LEN 64

struct ppmi_model {
    ppmi_params p;
    uint32_t k; /* dense dimensions = p.dim - p.hashed */
    uint32_t n_vocab;
    uint32_t n_slots;    /* hash index slots, a power of two >= 2 * n_vocab */
    uint64_t n_docs;     /* symbols trained on */
    uint64_t n_tokens;   /* token occurrences in them */
    uint64_t n_oov;      /* of which outside the vocabulary */
    float oov_weight;    /* weight of a token the vocabulary does not have */
    const char *strings; /* n_vocab NUL-terminated tokens, sorted bytewise */
    size_t strings_len;
    const uint32_t *str_off; /* n_vocab offsets into strings */
    const uint32_t *slots;   /* n_slots: vocabulary index + 1, 0 = empty */
    const float *weight;     /* n_vocab token weights (idf) */
    const float *vecs;       /* n_vocab x k, rows unit length (or zero) */
    const float *common;     /* k: unit common direction; all zero when none */
    char hash[PPMI_HASH_LEN + 1];
    /* storage: the file image, mapped (loaded) or on the heap (trained) */
    unsigned char *image;
    size_t image_len;
    bool mapped;
};

/* 64-bit FNV-1a with a splitmix finaliser: token hashing for the vocabulary
 * index and the hashed part (fixed forever: part of the file format). */
uint64_t ppmi_token_hash(const char *tok, size_t len);

/* Builds the slots table for a sorted vocabulary (n_slots entries, zeroed). */
void ppmi_build_slots(const char *strings, const uint32_t *str_off, uint32_t n_vocab,
                      uint32_t *slots, uint32_t n_slots);
uint32_t ppmi_slots_for(uint32_t n_vocab);

/* Symmetric sparse matrix in CSR form (both triangles stored). */
typedef struct ppmi_csr {
    uint32_t n;
    uint64_t *row; /* n + 1 */
    uint32_t *col;
    float *val;
} ppmi_csr;

/* Top-k eigenpairs by |lambda| of a symmetric matrix by randomized subspace
 * iteration.  vecs: n x k row-major (caller allocated); lambda: k. */
int ppmi_svd(const ppmi_csr *a, uint32_t k, uint32_t power_iters, uint64_t seed, float *vecs,
             float *lambda, ae_error *err);

/* Allocates the model's file image (header, sections, trailer) on the heap
 * and points the arrays into it; k, n_vocab and n_slots must be set. */
int ppmi_model_layout(ppmi_model *m, size_t strings_len, ae_error *err);
/* Fills the image's header and trailer (section digests, header digest) and
 * m->hash from the arrays; called once the arrays are final. */
void ppmi_model_compute_hash(ppmi_model *m);

#endif
