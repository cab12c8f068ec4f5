/* The config model over the TOML subset: known keys are validated against a
 * table of specs, unknown ones only warn.
 *
 * What is unusual: configs written by the reference tool carry sections we do
 * not use ([general], [verify], ...), so an unknown key or section is a
 * warning in c->warnings, never an error; but a known key with a bad value or
 * type is AE_ECONFIG naming PATH:LINE and the accepted values, because a
 * silently ignored typo in vector_backend would switch storage engines. */
#include "config/config.h"

#include "config/toml.h"
#include "util/err.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x)  STR_(x) /* "16384" from AE_MAX_DIM */

typedef enum kind { K_ENUM, K_STRING, K_BOOL, K_INT, K_STRLIST, K_REAL } kind;

typedef struct key_spec {
    const char *section, *key;
    kind kind;
    const char *const *choices; /* K_ENUM: NULL-terminated */
    int64_t min, max;           /* K_INT: min..max; K_REAL: min < value < max, finite */
    const char *accepted;       /* for messages and the default file */
    size_t offset;              /* of the field in ae_config */
} key_spec;

static const char *const INFERENCE_PROVIDERS[] = {
    "auto", "mock", "static", "openai_compat", "ollama", "qwen3_local", NULL};
static const char *const EMBEDDING_PROVIDERS[] = {"mock",   "hash",        "ppmi", "openai_compat",
                                                  "ollama", "qwen3_local", NULL};
static const char *const EMBEDDING_RETRAIN[] = {"auto", "never", "always", NULL};
static const char *const VECTOR_BACKENDS[] = {"lancedb", "sqlite", NULL};
static const char *const VERIFY_MODES[] = {"host", "container", "microvm", NULL};

#define FIELD(f) offsetof(ae_config, f)

static const key_spec KEYS[] = {
    {"inference", "provider", K_ENUM, INFERENCE_PROVIDERS, 0, 0,
     "\"auto\", \"mock\", \"static\", \"openai_compat\", \"ollama\", \"qwen3_local\"",
     FIELD(inference.provider)},
    {"inference", "model", K_STRING, NULL, 0, 0, "a model name string", FIELD(inference.model)},
    {"inference", "endpoint", K_STRING, NULL, 0, 0, "a URL string", FIELD(inference.endpoint)},
    {"inference", "api_key_env", K_STRING, NULL, 0, 0, "an environment variable name string",
     FIELD(inference.api_key_env)},
    {"storage", "mirror_sir_files", K_BOOL, NULL, 0, 0, "true, false",
     FIELD(storage.mirror_sir_files)},
    {"embeddings", "enabled", K_BOOL, NULL, 0, 0, "true, false", FIELD(embeddings.enabled)},
    {"embeddings", "provider", K_ENUM, EMBEDDING_PROVIDERS, 0, 0,
     "\"mock\", \"hash\", \"ppmi\", \"openai_compat\", \"ollama\", \"qwen3_local\"",
     FIELD(embeddings.provider)},
    {"embeddings", "retrain", K_ENUM, EMBEDDING_RETRAIN, 0, 0, "\"auto\", \"never\", \"always\"",
     FIELD(embeddings.retrain)},
    {"embeddings", "model", K_STRING, NULL, 0, 0, "a model name string", FIELD(embeddings.model)},
    {"embeddings", "endpoint", K_STRING, NULL, 0, 0, "a URL string", FIELD(embeddings.endpoint)},
    {"embeddings", "api_key_env", K_STRING, NULL, 0, 0, "an environment variable name string",
     FIELD(embeddings.api_key_env)},
    {"embeddings", "dim", K_INT, NULL, AE_CONFIG_MIN_DIM, AE_MAX_DIM, "1.." STR(AE_MAX_DIM),
     FIELD(embeddings.dim)},
    {"embeddings", "vector_backend", K_ENUM, VECTOR_BACKENDS, 0, 0, "\"lancedb\", \"sqlite\"",
     FIELD(embeddings.vector_backend)},
    {"embeddings", "batch_size", K_INT, NULL, AE_CONFIG_MIN_BATCH_SIZE, AE_CONFIG_MAX_BATCH_SIZE,
     "1..4096", FIELD(embeddings.batch_size)},
    {"search", "nprobe", K_INT, NULL, 0, INT_MAX, "0 (index default) or a positive integer",
     FIELD(search.nprobe)},
    {"search", "refine_factor", K_INT, NULL, 0, INT_MAX, "0 (index default) or a positive integer",
     FIELD(search.refine_factor)},
    {"search", "target_recall", K_REAL, NULL, 0, 1,
     "a number between 0 and 1, both excluded (e.g. 0.95)", FIELD(search.target_recall)},
    {"search", "index_build_memory_mb", K_INT, NULL, AE_CONFIG_MIN_BUILD_MEMORY_MB,
     AE_CONFIG_MAX_BUILD_MEMORY_MB, "16..1048576 (MiB)", FIELD(search.index_build_memory_mb)},
    {"verify", "commands", K_STRLIST, NULL, 0, 0, "an array of command strings",
     FIELD(verify.commands)},
    {"verify", "mode", K_ENUM, VERIFY_MODES, 0, 0, "\"host\", \"container\", \"microvm\"",
     FIELD(verify.mode)},
    {"verify", "timeout_secs", K_INT, NULL, AE_VERIFY_MIN_TIMEOUT_SECS, AE_VERIFY_MAX_TIMEOUT_SECS,
     "1..86400 (seconds per command)", FIELD(verify.timeout_secs)},
    {"verify", "max_output_bytes", K_INT, NULL, AE_VERIFY_MIN_MAX_OUTPUT_BYTES,
     AE_VERIFY_MAX_MAX_OUTPUT_BYTES, "1024..67108864 (bytes kept per stream)",
     FIELD(verify.max_output_bytes)},
    {"verify.container", "runtime", K_STRING, NULL, 0, 0, "a program name (docker, podman)",
     FIELD(verify.container.runtime)},
    {"verify.container", "image", K_STRING, NULL, 0, 0, "an image name string",
     FIELD(verify.container.image)},
    {"verify.container", "workdir", K_STRING, NULL, 0, 0, "an absolute path string",
     FIELD(verify.container.workdir)},
    {"verify.container", "fallback_to_host_on_unavailable", K_BOOL, NULL, 0, 0, "true, false",
     FIELD(verify.container.fallback_to_host_on_unavailable)},
    {"verify.microvm", "runtime", K_STRING, NULL, 0, 0, "a program name (firecracker)",
     FIELD(verify.microvm.runtime)},
    {"verify.microvm", "kernel_image", K_STRING, NULL, 0, 0, "a path string",
     FIELD(verify.microvm.kernel_image)},
    {"verify.microvm", "rootfs_image", K_STRING, NULL, 0, 0, "a path string",
     FIELD(verify.microvm.rootfs_image)},
    {"verify.microvm", "workdir", K_STRING, NULL, 0, 0, "an absolute path string",
     FIELD(verify.microvm.workdir)},
    {"verify.microvm", "vcpu_count", K_INT, NULL, 1, 64, "1..64", FIELD(verify.microvm.vcpu_count)},
    {"verify.microvm", "memory_mib", K_INT, NULL, 128, 1048576, "128..1048576",
     FIELD(verify.microvm.memory_mib)},
    {"verify.microvm", "fallback_to_container_on_unavailable", K_BOOL, NULL, 0, 0, "true, false",
     FIELD(verify.microvm.fallback_to_container_on_unavailable)},
    {"verify.microvm", "fallback_to_host_on_unavailable", K_BOOL, NULL, 0, 0, "true, false",
     FIELD(verify.microvm.fallback_to_host_on_unavailable)},
};

static const char *const SECTIONS[] = {"inference", "storage",          "embeddings",     "search",
                                       "verify",    "verify.container", "verify.microvm", NULL};

static const char DEFAULT_TEXT[] =
    "# aether workspace configuration (.aether/config.toml).\n"
    "# Every key is optional; the values below are the defaults.  Unknown keys and\n"
    "# sections are ignored with a warning; a bad value for a known key is an error.\n"
    "\n"
    "[inference]\n"
    "# Who writes the SIR summaries.\n"
    "# accepted: \"auto\", \"mock\", \"static\", \"openai_compat\", \"ollama\", \"qwen3_local\"\n"
    "provider = \"auto\"\n"
    "# Model name; unset: the provider's default.\n"
    "# model = \"\"\n"
    "# Endpoint URL (openai_compat, ollama); unset: the provider's default.\n"
    "# endpoint = \"http://127.0.0.1:11434\"\n"
    "# Name of the environment variable holding the API key (never the key itself).\n"
    "# api_key_env = \"OPENAI_API_KEY\"\n"
    "\n"
    "[storage]\n"
    "# Also write every SIR to .aether/sir/<symbol_id>.json.\n"
    "# accepted: true, false\n"
    "mirror_sir_files = true\n"
    "\n"
    "[embeddings]\n"
    "# accepted: true, false\n"
    "enabled = true\n"
    "# \"ppmi\" learns embeddings from this workspace (no model download, no network);\n"
    "# \"hash\" and \"mock\" hash tokens; the others call a model server.\n"
    "# accepted: \"mock\", \"hash\", \"ppmi\", \"openai_compat\", \"ollama\", \"qwen3_local\"\n"
    "provider = \"ppmi\"\n"
    "# ppmi: when indexing retrains the model (.aether/models/).  \"auto\": when there\n"
    "# is none or the workspace drifted from it (docs/PROVIDERS.md); \"never\": keep it;\n"
    "# \"always\": every pass (an unchanged workspace gives the same model).\n"
    "# accepted: \"auto\", \"never\", \"always\"\n"
    "retrain = \"auto\"\n"
    "# Model name; unset: the provider's default.\n"
    "# model = \"\"\n"
    "# Endpoint URL (openai_compat, ollama); unset: the provider's default.\n"
    "# endpoint = \"http://127.0.0.1:11434\"\n"
    "# Name of the environment variable holding the API key.\n"
    "# api_key_env = \"OPENAI_API_KEY\"\n"
    "# Vector dimension of the hash provider (other providers have their own).\n"
    "# accepted: 1.." STR(
        AE_MAX_DIM) "\n"
                    "dim = 384\n"
                    "# Where vectors are stored: \"lancedb\" is aether's native vector table "
                    "under\n"
                    "# .aether/vectors/ (the Lance design written in C, not the LanceDB library);\n"
                    "# \"sqlite\" is the legacy brute-force table in .aether/meta.sqlite.\n"
                    "# accepted: \"lancedb\", \"sqlite\"\n"
                    "vector_backend = \"lancedb\"\n"
                    "# Texts per embedding request.\n"
                    "# accepted: 1..4096\n"
                    "batch_size = 64\n"
                    "\n"
                    "[search]\n"
                    "# Inverted lists probed per query.\n"
                    "# accepted: 0 (index default) or a positive integer\n"
                    "nprobe = 0\n"
                    "# Candidates re-ranked exactly, as a multiple of the limit.\n"
                    "# accepted: 0 (index default) or a positive integer\n"
                    "refine_factor = 0\n"
                    "# The recall@10 each index build tunes nprobe / refine_factor for: the build\n"
                    "# measures its index on a sample of the table's own rows against exact\n"
                    "# search and keeps the cheapest setting that reaches it (never cheaper\n"
                    "# than the index defaults); searches with nprobe = refine_factor = 0 use it.\n"
                    "# accepted: a number between 0 and 1, both excluded (e.g. 0.95)\n"
                    "target_recall = 0.95\n"
                    "# The heap a vector index build may use, in MiB: the build plans its memory\n"
                    "# before allocating and refuses (the table keeps its old index or the exact\n"
                    "# scan) when the plan exceeds it.  The rows are read in place, not copied.\n"
                    "# accepted: 16..1048576 (MiB)\n"
                    "index_build_memory_mb = 2048\n"
                    "\n"
                    "# Check commands for `aetherd --verify` and the aether_verify MCP tool: only\n"
                    "# commands on this allow-list ever run (none by default; docs/VERIFY.md).\n"
                    "# [verify]\n"
                    "# commands = [\"make test\"]\n"
                    "# accepted: \"host\", \"container\", \"microvm\"\n"
                    "# mode = \"host\"\n"
                    "# timeout_secs = 600\n"
                    "# max_output_bytes = 1048576\n"
                    "# [verify.container]\n"
                    "# runtime = \"docker\"\n"
                    "# image = \"debian:stable\"\n"
                    "# workdir = \"/workspace\"\n"
                    "# fallback_to_host_on_unavailable = false\n";

const char *ae_config_default_text(void)
{
    return DEFAULT_TEXT;
}

void ae_config_init_defaults(ae_config *c)
{
    memset(c, 0, sizeof *c);
    c->inference.provider = ae_strdup("auto");
    c->storage.mirror_sir_files = true;
    c->embeddings.enabled = true;
    c->embeddings.provider = ae_strdup("ppmi");
    c->embeddings.retrain = ae_strdup("auto");
    c->embeddings.dim = AE_CONFIG_DEFAULT_DIM;
    c->embeddings.vector_backend = ae_strdup("lancedb");
    c->embeddings.batch_size = AE_CONFIG_DEFAULT_BATCH_SIZE;
    c->search.target_recall = AE_CONFIG_DEFAULT_TARGET_RECALL;
    c->search.index_build_memory_mb = AE_CONFIG_DEFAULT_BUILD_MEMORY_MB;
    c->verify.mode = ae_strdup("host");
    c->verify.timeout_secs = AE_VERIFY_DEFAULT_TIMEOUT_SECS;
    c->verify.max_output_bytes = AE_VERIFY_DEFAULT_MAX_OUTPUT_BYTES;
    c->verify.container.runtime = ae_strdup("docker");
    c->verify.container.workdir = ae_strdup("/workspace");
    c->verify.microvm.runtime = ae_strdup("firecracker");
    c->verify.microvm.workdir = ae_strdup("/workspace");
    c->verify.microvm.vcpu_count = 1;
    c->verify.microvm.memory_mib = 1024;
}

void ae_config_free(ae_config *c)
{
    if (!c) return;
    free(c->inference.provider);
    free(c->inference.model);
    free(c->inference.endpoint);
    free(c->inference.api_key_env);
    free(c->embeddings.provider);
    free(c->embeddings.retrain);
    free(c->embeddings.model);
    free(c->embeddings.endpoint);
    free(c->embeddings.api_key_env);
    free(c->embeddings.vector_backend);
    ae_strlist_free(&c->verify.commands);
    free(c->verify.mode);
    free(c->verify.container.runtime);
    free(c->verify.container.image);
    free(c->verify.container.workdir);
    free(c->verify.microvm.runtime);
    free(c->verify.microvm.kernel_image);
    free(c->verify.microvm.rootfs_image);
    free(c->verify.microvm.workdir);
    ae_strlist_free(&c->warnings);
    memset(c, 0, sizeof *c);
}

static const char *a_type(ae_toml_type t)
{
    switch (t) {
    case AE_TOML_STRING:
        return "a string";
    case AE_TOML_INT:
        return "an integer";
    case AE_TOML_FLOAT:
        return "a float";
    case AE_TOML_BOOL:
        return "a boolean";
    case AE_TOML_ARRAY:
        return "an array";
    case AE_TOML_TABLE:
        return "a table";
    }
    return "a value";
}

static const char *kind_name(kind k)
{
    switch (k) {
    case K_ENUM:
    case K_STRING:
        return "a string";
    case K_BOOL:
        return "a boolean";
    case K_INT:
        return "an integer";
    case K_STRLIST:
        return "an array of strings";
    case K_REAL:
        return "a number";
    }
    return "a value";
}

static int warn(ae_config *c, ae_error *err, const char *fmt, ...) AE_PRINTF(3, 4);
static int warn(ae_config *c, ae_error *err, const char *fmt, ...)
{
    char msg[AE_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ae_strlist_push(&c->warnings, msg) < 0)
        return ae_fail(err, AE_ENOMEM, "out of memory recording a config warning");
    return 0;
}

/* where names the value in messages: "path:line" for the file, a flag for overrides. */
static int apply(const char *where, const key_spec *k, const ae_toml_value *v, ae_config *c,
                 ae_error *err)
{
    char *field = (char *)c + k->offset;
    if (k->kind == K_STRLIST) {
        if (v->type != AE_TOML_ARRAY)
            return ae_fail(err, AE_ECONFIG, "%s: [%s] %s must be %s, not %s; accepted: %s", where,
                           k->section, k->key, kind_name(k->kind), a_type(v->type), k->accepted);
        ae_strlist *l = (ae_strlist *)(void *)field;
        ae_strlist_free(l);
        for (size_t i = 0; i < v->u.array.len; i++) {
            const ae_toml_value *it = &v->u.array.items[i];
            if (it->type != AE_TOML_STRING)
                return ae_fail(err, AE_ECONFIG,
                               "%s: [%s] %s item %zu must be a string, not %s; accepted: %s", where,
                               k->section, k->key, i + 1, a_type(it->type), k->accepted);
            if (ae_strlist_push(l, it->u.str) < 0)
                return ae_fail(err, AE_ENOMEM, "%s: out of memory", where);
        }
        return 0;
    }
    bool type_ok = (k->kind == K_BOOL && v->type == AE_TOML_BOOL) ||
                   (k->kind == K_INT && v->type == AE_TOML_INT) ||
                   (k->kind == K_REAL && (v->type == AE_TOML_FLOAT || v->type == AE_TOML_INT)) ||
                   ((k->kind == K_ENUM || k->kind == K_STRING) && v->type == AE_TOML_STRING);
    if (!type_ok)
        return ae_fail(err, AE_ECONFIG, "%s: [%s] %s must be %s, not %s; accepted: %s", where,
                       k->section, k->key, kind_name(k->kind), a_type(v->type), k->accepted);
    switch (k->kind) {
    case K_BOOL:
        *(bool *)(void *)field = v->u.b;
        return 0;
    case K_INT:
        if (v->u.i < k->min || v->u.i > k->max)
            return ae_fail(err, AE_ECONFIG, "%s: [%s] %s = %lld is out of range; accepted: %s",
                           where, k->section, k->key, (long long)v->u.i, k->accepted);
        *(int *)(void *)field = (int)v->u.i;
        return 0;
    case K_REAL: {
        double x = v->type == AE_TOML_INT ? (double)v->u.i : v->u.f;
        /* written so that NaN fails too */
        if (!(isfinite(x) && x > (double)k->min && x < (double)k->max))
            return ae_fail(err, AE_ECONFIG, "%s: [%s] %s = %g is out of range; accepted: %s", where,
                           k->section, k->key, x, k->accepted);
        *(double *)(void *)field = x;
        return 0;
    }
    case K_STRLIST:
        return 0;
    case K_ENUM:
    case K_STRING: {
        if (k->kind == K_ENUM) {
            bool found = false;
            for (const char *const *ch = k->choices; *ch; ch++)
                if (strcmp(*ch, v->u.str) == 0) found = true;
            if (!found)
                return ae_fail(err, AE_ECONFIG,
                               "%s: [%s] %s = \"%.64s\" is not supported; accepted: %s", where,
                               k->section, k->key, v->u.str, k->accepted);
        }
        char **slot = (char **)(void *)field;
        char *s = NULL;
        if (v->u.str[0] != '\0' || k->kind == K_ENUM) {
            s = ae_strdup(v->u.str);
            if (!s) return ae_fail(err, AE_ENOMEM, "%s: out of memory", where);
        }
        free(*slot);
        *slot = s;
        return 0;
    }
    }
    return 0;
}

static bool known_section(const char *name)
{
    for (const char *const *s = SECTIONS; *s; s++)
        if (strcmp(*s, name) == 0) return true;
    return false;
}

static int apply_section(const char *path, const char *name, const ae_toml_value *sec, ae_config *c,
                         ae_error *err)
{
    if (sec->type != AE_TOML_TABLE)
        return ae_fail(err, AE_ECONFIG,
                       "%s:%d: %s must be a [%s] section, not %s; accepted: a table", path,
                       sec->line, name, name, a_type(sec->type));
    const ae_toml_table *t = sec->u.table;
    for (size_t i = 0; i < t->len; i++) {
        const key_spec *k = NULL;
        for (size_t j = 0; j < sizeof KEYS / sizeof KEYS[0]; j++)
            if (strcmp(KEYS[j].section, name) == 0 && strcmp(KEYS[j].key, t->keys[i]) == 0)
                k = &KEYS[j];
        char where[AE_ERROR_MESSAGE_MAX / 2];
        snprintf(where, sizeof where, "%s:%d", path, t->values[i].line);
        char sub[64];
        snprintf(sub, sizeof sub, "%s.%s", name, t->keys[i]);
        if (k)
            AE_TRY(apply(where, k, &t->values[i], c, err));
        else if (t->values[i].type == AE_TOML_TABLE && known_section(sub))
            AE_TRY(apply_section(path, sub, &t->values[i], c, err));
        else
            AE_TRY(warn(c, err, "%s:%d: unknown key '%s' in [%s] (ignored)", path,
                        t->values[i].line, t->keys[i], name));
    }
    return 0;
}

int ae_config_parse(const char *path, const char *text, size_t len, ae_config *out, ae_error *err)
{
    ae_config c;
    ae_toml_table *root = NULL;
    int rc = 0;
    if (!path) path = "<config>";
    ae_config_init_defaults(&c);
    if (!c.inference.provider || !c.embeddings.provider || !c.embeddings.vector_backend)
        AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(ae_toml_parse(text, len, path, &root, err));
    for (size_t i = 0; i < root->len; i++) {
        const char *name = root->keys[i];
        const ae_toml_value *v = &root->values[i];
        if (known_section(name))
            AE_CHECK(apply_section(path, name, v, &c, err));
        else if (v->type == AE_TOML_TABLE)
            AE_CHECK(warn(&c, err, "%s:%d: unknown section [%s] (ignored)", path, v->line, name));
        else
            AE_CHECK(
                warn(&c, err, "%s:%d: unknown top-level key '%s' (ignored)", path, v->line, name));
    }
    ae_toml_free(root);
    *out = c;
    return 0;
cleanup:
    ae_toml_free(root);
    ae_config_free(&c);
    memset(out, 0, sizeof *out);
    return rc;
}

static const key_spec *find_key(const char *section, const char *key)
{
    for (size_t j = 0; j < sizeof KEYS / sizeof KEYS[0]; j++)
        if (!strcmp(KEYS[j].section, section) && !strcmp(KEYS[j].key, key)) return &KEYS[j];
    return NULL;
}

int ae_config_override(ae_config *c, const char *section, const char *key, const char *value,
                       const char *origin, ae_error *err)
{
    if (!origin) origin = "override";
    AE_RETURN_IF(!c || !section || !key || !value, err, AE_EINVAL,
                 "%s: section, key and value are required", origin);
    const key_spec *k = find_key(section, key);
    AE_RETURN_IF(!k, err, AE_ECONFIG, "%s: [%s] %s is not a known setting", origin, section, key);
    ae_toml_value v = {.type = AE_TOML_STRING, .line = 0};
    v.u.str = (char *)value;
    if (k->kind == K_BOOL) {
        AE_RETURN_IF(strcmp(value, "true") && strcmp(value, "false"), err, AE_ECONFIG,
                     "%s: [%s] %s must be true or false, not '%.64s'", origin, section, key, value);
        v.type = AE_TOML_BOOL;
        v.u.b = !strcmp(value, "true");
    } else if (k->kind == K_INT) {
        char *end;
        errno = 0;
        long long n = strtoll(value, &end, 10);
        AE_RETURN_IF(!*value || *end || errno, err, AE_ECONFIG,
                     "%s: [%s] %s must be an integer, not '%.64s'; accepted: %s", origin, section,
                     key, value, k->accepted);
        v.type = AE_TOML_INT;
        v.u.i = n;
    } else if (k->kind == K_REAL) {
        char *end;
        errno = 0;
        double x = strtod(value, &end);
        AE_RETURN_IF(!*value || *end || errno, err, AE_ECONFIG,
                     "%s: [%s] %s must be a number, not '%.64s'; accepted: %s", origin, section,
                     key, value, k->accepted);
        v.type = AE_TOML_FLOAT;
        v.u.f = x;
    } else if (!strcmp(key, "endpoint") && *value) {
        /* A flag is checked at once; the file's value is checked when its provider opens. */
        AE_RETURN_IF(strncmp(value, "http://", 7) && strncmp(value, "https://", 8), err, AE_ECONFIG,
                     "%s: [%s] endpoint '%.200s' must start with http:// or https://", origin,
                     section, value);
    }
    return apply(origin, k, &v, c, err);
}

int ae_config_load(const char *path, ae_config *out, ae_error *err)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    if (stat(path, &st) != 0 && errno == ENOENT) {
        ae_config_init_defaults(out);
        if (!out->inference.provider || !out->embeddings.provider ||
            !out->embeddings.vector_backend) {
            ae_config_free(out);
            return ae_fail(err, AE_ENOMEM, "out of memory");
        }
        return 0;
    }
    AE_TRY(ae_read_file(path, &text, &len, err));
    int rc = ae_config_parse(path, text, len, out, err);
    free(text);
    return rc;
}

int ae_config_write_default(const char *path, ae_error *err)
{
    int rc = 0;
    char *dir = NULL;
    if (ae_path_exists(path)) return 0;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        dir = ae_strndup(path, (size_t)(slash - path));
        if (!dir) AE_FAIL(err, AE_ENOMEM, "out of memory");
        AE_CHECK(ae_mkdirs(dir, err));
    }
    /* create-only: a config someone wrote meanwhile is kept, and readers
     * never see a half-written one */
    rc = ae_write_file_new(path, DEFAULT_TEXT, sizeof DEFAULT_TEXT - 1, err);
cleanup:
    free(dir);
    return rc;
}
