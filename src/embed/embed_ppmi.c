/* The "ppmi" provider: embeddings learned from the workspace itself.
 *
 * 1. It only loads and applies a model; training is the indexer's job
 *    (src/workspace/embed_model.c calls ae_embed_model_train).  A workspace
 *    without a model yet makes open fail with AE_ENOTFOUND, which search turns
 *    into a lexical fallback with the reason.
 * 2. The model is chosen by name: options.model when given, else the name in
 *    <model_dir>/CURRENT.  The embedder's model string is that name,
 *    "ppmi-<dim>-<hash8>", so a new model is a new vector table.
 * 3. The indexer opens with verify_all (every section checksum); a search
 *    process checks everything but the vectors' digest (ppmi_model.c, note 1).
 * 4. Token counts of everything embedded are kept (ae_embedder_token_stats),
 *    so the indexer can tell when the vocabulary has drifted from the model. */
#include "embed/embed_model.h"
#include "embed/embed_provider.h"
#include "embed/ppmi.h"

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ppmi_impl {
    ppmi_model *m;
    uint64_t tokens, oov;
} ppmi_impl;

static int ppmi_embed_batch(ae_embedder *e, const char *const *texts, size_t n, float *out,
                            ae_error *err)
{
    ppmi_impl *p = e->impl;
    for (size_t i = 0; i < n; i++) {
        uint64_t tok = 0, oov = 0;
        AE_TRY(ppmi_embed_counted(p->m, texts[i], strlen(texts[i]), out + i * (size_t)e->dim, &tok,
                                  &oov, err));
        p->tokens += tok;
        p->oov += oov;
    }
    return 0;
}

static void ppmi_close(ae_embedder *e)
{
    ppmi_impl *p = e->impl;
    if (!p) return;
    ppmi_model_free(p->m);
    free(p);
    e->impl = NULL;
}

static const ae_embedder_ops ppmi_ops = {ppmi_embed_batch, ppmi_close};

int embed_ppmi_open(const ae_embed_options *o, ae_embedder *e, ae_error *err)
{
    AE_RETURN_IF(!o->model_dir || !*o->model_dir, err, AE_EINVAL,
                 "provider 'ppmi' learns its model from a workspace: no model directory given");
    char name[AE_EMBED_MODEL_NAME_MAX + 1];
    if (o->model && *o->model) {
        AE_RETURN_IF(strlen(o->model) > AE_EMBED_MODEL_NAME_MAX, err, AE_EINVAL,
                     "embedding model name '%.40s...' is longer than %d bytes", o->model,
                     AE_EMBED_MODEL_NAME_MAX);
        strcpy(name, o->model);
    } else {
        AE_TRY(ae_embed_model_current(o->model_dir, AE_EMBED_MODEL_CURRENT, name, err));
    }
    AE_TRY(ae_embed_model_check_name(name, err));
    char file[AE_EMBED_MODEL_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.bin", name);
    char *path = ae_path_join(o->model_dir, file);
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory opening embedder 'ppmi'");
    ppmi_impl *p = calloc(1, sizeof *p);
    int rc = 0;
    if (!p) AE_FAIL(err, AE_ENOMEM, "out of memory opening embedder 'ppmi'");
    AE_CHECK(ppmi_model_load(path, o->verify_model, &p->m, err));
    /* the file must be the model its name says */
    char expect[AE_EMBED_MODEL_NAME_MAX + 1];
    ae_embed_model_name(ppmi_model_dim(p->m), ppmi_model_hash(p->m), expect);
    if (strcmp(expect, name) != 0)
        AE_FAIL(err, AE_ECORRUPT, "%s: holds model %s, not %s", path, expect, name);
    e->model = ae_strdup(name);
    if (!e->model) AE_FAIL(err, AE_ENOMEM, "out of memory opening embedder 'ppmi'");
    e->dim = ppmi_model_dim(p->m);
    e->ops = &ppmi_ops;
    e->impl = p;
    p = NULL;
cleanup:
    if (p) ppmi_model_free(p->m);
    free(p);
    free(path);
    return rc;
}

int ae_embedder_token_stats(const ae_embedder *e, uint64_t *tokens, uint64_t *oov)
{
    *tokens = *oov = 0;
    if (!e || e->ops != &ppmi_ops) return AE_EINVAL;
    const ppmi_impl *p = e->impl;
    *tokens = p->tokens;
    *oov = p->oov;
    return 0;
}
