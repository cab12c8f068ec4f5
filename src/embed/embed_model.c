/* Model files, pointers and drift counters under .aether/models/ (embed_model.h).
 *
 * 1. CURRENT and NEXT are one-line text files written with temp + fsync +
 *    rename, so a reader sees the old name or the new one, never a torn one.
 * 2. Model names are checked before they become file names: "ppmi-", digits,
 *    "-", 8 lower-case hex digits.  A pointer file holding anything else is
 *    corrupt, never a path. */
#include "embed/embed_model.h"

#include "embed/ppmi.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROVIDER_PPMI "ppmi"

bool ae_embed_provider_learns(const char *provider)
{
    return provider && !strcmp(provider, PROVIDER_PPMI);
}

void ae_embed_model_name(uint32_t dim, const char *hash, char out[AE_EMBED_MODEL_NAME_MAX + 1])
{
    snprintf(out, AE_EMBED_MODEL_NAME_MAX + 1, "%s-%u-%.8s", PROVIDER_PPMI, dim, hash);
}

int ae_embed_model_check_name(const char *name, ae_error *err)
{
    const char *p = name;
    bool ok = !strncmp(p, PROVIDER_PPMI "-", 5);
    p += ok ? 5 : 0;
    size_t digits = 0;
    while (ok && *p >= '0' && *p <= '9' && digits < 6) {
        p++;
        digits++;
    }
    ok = ok && digits > 0 && *p++ == '-';
    for (int i = 0; ok && i < 8; i++, p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    ok = ok && *p == '\0';
    AE_RETURN_IF(!ok, err, AE_EINVAL,
                 "'%.80s' is not an embedding model name (expected ppmi-<dim>-<8 hex digits>)",
                 name);
    return 0;
}

int ae_embed_model_current(const char *dir, const char *which,
                           char out[AE_EMBED_MODEL_NAME_MAX + 1], ae_error *err)
{
    out[0] = '\0';
    char *path = ae_path_join(dir, which);
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (!ae_path_exists(path))
        AE_FAIL(err, AE_ENOTFOUND,
                "no embedding model has been trained in %s yet (indexing trains one)", dir);
    AE_CHECK(ae_read_file(path, &text, &len, err));
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (len > AE_EMBED_MODEL_NAME_MAX || ae_embed_model_check_name(text, NULL) < 0)
        AE_FAIL(err, AE_ECORRUPT, "%s: does not hold a model name", path);
    memcpy(out, text, len + 1);
cleanup:
    free(text);
    free(path);
    return rc;
}

int ae_embed_model_set(const char *dir, const char *which, const char *name, ae_error *err)
{
    char *path = ae_path_join(dir, which);
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    int rc = 0;
    if (!name) {
        if (unlink(path) != 0 && errno != ENOENT) rc = ae_fail_errno(err, errno, "remove %s", path);
    } else {
        AE_CHECK(ae_embed_model_check_name(name, err));
        char line[AE_EMBED_MODEL_NAME_MAX + 2];
        int n = snprintf(line, sizeof line, "%s\n", name);
        AE_CHECK(ae_mkdirs(dir, err));
        AE_CHECK(ae_write_file_atomic(path, line, (size_t)n, err));
    }
cleanup:
    free(path);
    return rc;
}

/* "<name>.bin" or "<name>.drift" -> name, if the stem is a model name. */
static bool model_stem(const char *file, char stem[AE_EMBED_MODEL_NAME_MAX + 1])
{
    const char *dot = strrchr(file, '.');
    if (!dot || (strcmp(dot, ".bin") && strcmp(dot, ".drift"))) return false;
    size_t n = (size_t)(dot - file);
    if (n > AE_EMBED_MODEL_NAME_MAX) return false;
    memcpy(stem, file, n);
    stem[n] = '\0';
    return ae_embed_model_check_name(stem, NULL) == 0;
}

int ae_embed_model_gc(const char *dir, const char *const *keep, size_t n_keep, ae_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : ae_fail_errno(err, errno, "open %s", dir);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && rc == 0) {
        char stem[AE_EMBED_MODEL_NAME_MAX + 1];
        if (!model_stem(e->d_name, stem)) continue;
        bool kept = false;
        for (size_t i = 0; i < n_keep && !kept; i++)
            kept = keep[i] && !strcmp(keep[i], stem);
        if (kept) continue;
        char *path = ae_path_join(dir, e->d_name);
        if (!path)
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
        else if (unlink(path) != 0 && errno != ENOENT)
            rc = ae_fail_errno(err, errno, "remove %s", path);
        free(path);
    }
    closedir(d);
    return rc;
}

static char *model_path(const char *dir, const char *name, const char *ext)
{
    char file[AE_EMBED_MODEL_NAME_MAX + 16];
    snprintf(file, sizeof file, "%s%s", name, ext);
    return ae_path_join(dir, file);
}

int ae_embed_model_info_read(const char *dir, const char *name, ae_embed_model_info *out,
                             ae_error *err)
{
    memset(out, 0, sizeof *out);
    AE_TRY(ae_embed_model_check_name(name, err));
    char *path = model_path(dir, name, ".bin");
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    ppmi_model *m = NULL;
    int rc = ppmi_model_load(path, 0, &m, err);
    free(path);
    AE_TRY(rc);
    ppmi_model_stats(m, &out->symbols, &out->tokens, &out->oov_tokens);
    out->dim = ppmi_model_dim(m);
    out->vocab = ppmi_model_vocab(m);
    ppmi_model_free(m);
    return 0;
}

int ae_embed_drift_read(const char *dir, const char *name, ae_embed_drift *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    AE_TRY(ae_embed_model_check_name(name, err));
    char *path = model_path(dir, name, ".drift");
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (!ae_path_exists(path)) goto cleanup;
    AE_CHECK(ae_read_file(path, &text, &len, err));
    unsigned long long s, t, o;
    if (sscanf(text, "symbols %llu tokens %llu oov %llu", &s, &t, &o) != 3 || o > t)
        AE_FAIL(err, AE_ECORRUPT, "%s: expected 'symbols N tokens N oov N'", path);
    *out = (ae_embed_drift){s, t, o};
cleanup:
    free(text);
    free(path);
    return rc;
}

int ae_embed_drift_write(const char *dir, const char *name, const ae_embed_drift *d, ae_error *err)
{
    AE_TRY(ae_embed_model_check_name(name, err));
    char *path = model_path(dir, name, ".drift");
    AE_RETURN_IF(!path, err, AE_ENOMEM, "out of memory");
    char line[128];
    int n = snprintf(line, sizeof line, "symbols %llu tokens %llu oov %llu\n",
                     (unsigned long long)d->symbols, (unsigned long long)d->tokens,
                     (unsigned long long)d->oov_tokens);
    int rc = ae_write_file_atomic(path, line, (size_t)n, err);
    free(path);
    return rc;
}

struct ae_embed_trainer {
    ppmi_trainer *t;
};

int ae_embed_trainer_open(const char *provider, ae_embed_trainer **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!ae_embed_provider_learns(provider), err, AE_EINVAL,
                 "embedding provider '%s' does not learn a model", provider ? provider : "");
    ae_embed_trainer *t = calloc(1, sizeof *t);
    AE_RETURN_IF(!t, err, AE_ENOMEM, "out of memory starting embedding training");
    ppmi_params p;
    ppmi_params_default(&p);
    int rc = ppmi_trainer_new(&p, &t->t, err);
    if (rc < 0) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int ae_embed_trainer_add(ae_embed_trainer *t, const char *text, ae_error *err)
{
    return ppmi_trainer_add(t->t, text, strlen(text), err);
}

int ae_embed_trainer_finish(ae_embed_trainer *t, const char *dir,
                            char name[AE_EMBED_MODEL_NAME_MAX + 1], ae_error *err)
{
    ppmi_model *m = NULL;
    AE_TRY(ppmi_trainer_finish(t->t, &m, err));
    ae_embed_model_name(ppmi_model_dim(m), ppmi_model_hash(m), name);
    char *path = model_path(dir, name, ".bin");
    int rc = 0;
    if (!path) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(ae_mkdirs(dir, err));
    /* same name = same header digest = same content (deterministic training) */
    if (ae_path_exists(path)) {
        ppmi_model *old = NULL;
        bool intact = ppmi_model_load(path, 1, &old, NULL) == 0;
        ppmi_model_free(old);
        if (intact) goto cleanup; /* already there */
    }
    AE_CHECK(ppmi_model_save(m, path, err));
cleanup:
    free(path);
    ppmi_model_free(m);
    return rc;
}

void ae_embed_trainer_close(ae_embed_trainer *t)
{
    if (!t) return;
    ppmi_trainer_free(t->t);
    free(t);
}
