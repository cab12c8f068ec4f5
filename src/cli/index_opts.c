/* The indexing flags applied to an open workspace: --sir-concurrency and the --inference-*
 * overrides of [inference] (one row per flag; the library validates the values against the
 * config's own key table and names the flag in its message). */
#include "cli/cli.h"

#include <stddef.h>
#include <stdio.h>

static const struct {
    const char *flag, *key;
    size_t field; /* offsetof(cli_options, inference.<key>) */
} inference_flags[] = {
    {"--inference-provider", "provider", offsetof(cli_options, inference.provider)},
    {"--inference-model", "model", offsetof(cli_options, inference.model)},
    {"--inference-endpoint", "endpoint", offsetof(cli_options, inference.endpoint)},
    {"--inference-api-key-env", "api_key_env", offsetof(cli_options, inference.api_key_env)},
};

int cli_index_setup(ae_workspace *ws, const cli_options *o)
{
    ae_error err;
    if (o->sir_concurrency && ae_workspace_set_sir_concurrency(ws, o->sir_concurrency, &err) < 0)
        return cli_usage_error("--sir-concurrency: %s", err.message);
    for (size_t i = 0; i < sizeof inference_flags / sizeof inference_flags[0]; i++) {
        const char *val =
            *(const char *const *)(const void *)((const char *)o + inference_flags[i].field);
        if (!val) continue;
        if (ae_workspace_override(ws, "inference", inference_flags[i].key, val,
                                  inference_flags[i].flag, &err) < 0) {
            fprintf(stderr, "aetherd: %s\n", err.message);
            return EXIT_USAGE;
        }
    }
    return 0;
}
