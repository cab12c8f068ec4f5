/* The workspace configuration, .aether/config.toml. */
#ifndef AE_CONFIG_CONFIG_H
#define AE_CONFIG_CONFIG_H

#include "util/mem.h"

#include <aether/error.h>
#include <stdbool.h>

typedef struct ae_config {
    struct {
        char *provider; /* auto | mock | static | openai_compat | ollama ...; default "auto" */
        char *model, *endpoint, *api_key_env; /* NULL when unset */
    } inference;
    struct {
        bool mirror_sir_files; /* default true */
    } storage;
    struct {
        bool enabled;          /* default true */
        char *provider;        /* mock | hash | openai_compat | ollama | qwen3_local; default hash */
        char *model;           /* NULL: the provider's default */
        char *endpoint, *api_key_env;
        int dim;               /* hash provider only; default 384 */
        char *vector_backend;  /* "lancedb" (default) | "sqlite" */
        int batch_size;        /* default 64 */
    } embeddings;
    struct {
        int nprobe;        /* 0: index default */
        int refine_factor; /* 0: index default */
    } search;
    ae_strlist warnings; /* "path:line: unknown key 'x' in [general] (ignored)" */
} ae_config;

/* Defaults without reading anything. */
void ae_config_init_defaults(ae_config *c);
/* Loads path; a missing file gives the defaults.  Syntax errors and bad values
 * for known keys are AE_ECONFIG naming path:line and the accepted values;
 * unknown keys and sections become warnings. */
int ae_config_load(const char *path, ae_config *out, ae_error *err);
/* Writes the commented default config if path does not exist. */
int ae_config_write_default(const char *path, ae_error *err);
void ae_config_free(ae_config *c);

#endif
