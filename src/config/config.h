/* The workspace configuration, .aether/config.toml.
 *
 * Sections and keys (every key optional; defaults in brackets):
 *   [inference]  provider auto|mock|static|openai_compat|ollama|qwen3_local ["auto"],
 *                model, endpoint, api_key_env (strings; unset or "" -> NULL)
 *   [storage]    mirror_sir_files bool [true]
 *   [embeddings] enabled bool [true], provider mock|hash|ppmi|openai_compat|ollama|qwen3_local
 *                ["ppmi"], retrain auto|never|always ["auto"], model, endpoint, api_key_env,
 *                dim 1..AE_MAX_DIM [384] (hash only), vector_backend "lancedb"|"sqlite"
 *                ["lancedb"], batch_size 1..4096 [64]
 *   [search]     nprobe >= 0 [0], refine_factor >= 0 [0]  (0: the index default),
 *                target_recall 0 < x < 1 [0.95] (what index builds tune for),
 *                index_build_memory_mb 16..1048576 [2048] (an index build's heap budget)
 *   [verify]     commands (array of strings) [empty], mode host|container|microvm ["host"],
 *                timeout_secs 1..86400 [600], max_output_bytes 1024..67108864 [1048576]
 *   [verify.container] runtime ["docker"], image, workdir ["/workspace"],
 *                fallback_to_host_on_unavailable [false]
 *   [verify.microvm]   runtime ["firecracker"], kernel_image, rootfs_image, workdir
 *                ["/workspace"], vcpu_count 1..64 [1], memory_mib 128..1048576 [1024],
 *                fallback_to_container_on_unavailable [false],
 *                fallback_to_host_on_unavailable [false] */
#ifndef AE_CONFIG_CONFIG_H
#define AE_CONFIG_CONFIG_H

#include "util/mem.h"

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>

#define AE_CONFIG_DEFAULT_DIM              384
#define AE_CONFIG_MIN_DIM                  1
#define AE_CONFIG_DEFAULT_BATCH_SIZE       64
#define AE_CONFIG_MIN_BATCH_SIZE           1
#define AE_CONFIG_MAX_BATCH_SIZE           4096
#define AE_CONFIG_DEFAULT_TARGET_RECALL    0.95 /* = AE_TABLE_DEFAULT_TARGET_RECALL */
#define AE_CONFIG_DEFAULT_BUILD_MEMORY_MB  2048 /* = AE_IVFPQ_DEFAULT_BUILD_BUDGET */
#define AE_CONFIG_MIN_BUILD_MEMORY_MB      16   /* = AE_IVFPQ_MIN_BUILD_BUDGET */
#define AE_CONFIG_MAX_BUILD_MEMORY_MB      1048576
#define AE_VERIFY_DEFAULT_TIMEOUT_SECS     600
#define AE_VERIFY_MIN_TIMEOUT_SECS         1
#define AE_VERIFY_MAX_TIMEOUT_SECS         86400
#define AE_VERIFY_DEFAULT_MAX_OUTPUT_BYTES (1 << 20)
#define AE_VERIFY_MIN_MAX_OUTPUT_BYTES     1024
#define AE_VERIFY_MAX_MAX_OUTPUT_BYTES     (64 << 20)

typedef struct ae_config {
    struct {
        char *provider; /* auto | mock | static | openai_compat | ollama ...; default "auto" */
        char *model, *endpoint, *api_key_env; /* NULL when unset */
    } inference;
    struct {
        bool mirror_sir_files; /* default true */
    } storage;
    struct {
        bool enabled; /* default true */
        char
            *provider; /* mock | hash | ppmi | openai_compat | ollama | qwen3_local; default ppmi */
        char *model;   /* NULL: the provider's default */
        char *endpoint, *api_key_env;
        int dim;              /* hash provider only; default 384 */
        char *vector_backend; /* "lancedb" (default) | "sqlite" */
        char *retrain;        /* ppmi: "auto" (default) | "never" | "always" */
        int batch_size;       /* default 64 */
    } embeddings;
    struct {
        int nprobe;                /* 0: index default */
        int refine_factor;         /* 0: index default */
        double target_recall;      /* of index builds (table_index_policy.h); default 0.95 */
        int index_build_memory_mb; /* an index build's heap budget (MiB); default 2048 */
    } search;
    struct {
        ae_strlist commands; /* the allow-list; empty by default (docs/VERIFY.md) */
        char *mode;          /* host | container | microvm */
        int timeout_secs, max_output_bytes;
        struct {
            char *runtime, *image, *workdir;
            bool fallback_to_host_on_unavailable;
        } container;
        struct {
            char *runtime, *kernel_image, *rootfs_image, *workdir;
            int vcpu_count, memory_mib;
            bool fallback_to_container_on_unavailable, fallback_to_host_on_unavailable;
        } microvm;
    } verify;
    ae_strlist warnings; /* "path:line: unknown key 'x' in [general] (ignored)" */
} ae_config;

/* Defaults without reading anything. */
void ae_config_init_defaults(ae_config *c);
/* On failure of load/parse *out is zeroed (ae_config_free on it is harmless). */
/* Loads path; a missing file gives the defaults.  Syntax errors and bad values
 * for known keys are AE_ECONFIG naming path:line and the accepted values;
 * unknown keys and sections become warnings. */
int ae_config_load(const char *path, ae_config *out, ae_error *err);
/* Same as ae_config_load for text already in memory; path names it in messages. */
int ae_config_parse(const char *path, const char *text, size_t len, ae_config *out, ae_error *err);
/* Writes the commented default config if path does not exist (creating the
 * parent directory); an existing file is left untouched and is not an error.
 * Never overwrites: the file appears complete or not at all. */
int ae_config_write_default(const char *path, ae_error *err);
/* The text ae_config_write_default writes (static storage). */
const char *ae_config_default_text(void);
void ae_config_free(ae_config *c);
/* Sets one known key from text, as if the file said so (command-line overrides such as
 * --inference-model); the same validation as the file, messages prefixed with origin instead
 * of path:line.  An empty string unsets a string key. */
int ae_config_override(ae_config *c, const char *section, const char *key, const char *value,
                       const char *origin, ae_error *err);

#endif
