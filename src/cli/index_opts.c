/* The indexing flags applied to an open workspace: --sir-concurrency and the one-run
 * overrides of config keys, --inference-* ([inference]) and --retrain ([embeddings]): one
 * row per flag; the library validates the values against the config's own key table and
 * names the flag in its message. */
#include "cli/cli.h"

#include <stddef.h>
#include <stdio.h>

static const struct {
    const char *flag, *section, *key;
    size_t field; /* offsetof(cli_options, <the flag's string>) */
} override_flags[] = {
    {"--inference-provider", "inference", "provider", offsetof(cli_options, inference.provider)},
    {"--inference-model", "inference", "model", offsetof(cli_options, inference.model)},
    {"--inference-endpoint", "inference", "endpoint", offsetof(cli_options, inference.endpoint)},
    {"--inference-api-key-env", "inference", "api_key_env",
     offsetof(cli_options, inference.api_key_env)},
    {"--retrain", "embeddings", "retrain", offsetof(cli_options, retrain)},
};

int cli_index_setup(ae_workspace *ws, const cli_options *o)
{
    ae_error err;
    if (o->sir_concurrency && ae_workspace_set_sir_concurrency(ws, o->sir_concurrency, &err) < 0)
        return cli_usage_error("--sir-concurrency: %s", err.message);
    for (size_t i = 0; i < sizeof override_flags / sizeof override_flags[0]; i++) {
        const char *val =
            *(const char *const *)(const void *)((const char *)o + override_flags[i].field);
        if (!val) continue;
        if (ae_workspace_override(ws, override_flags[i].section, override_flags[i].key, val,
                                  override_flags[i].flag, &err) < 0) {
            fprintf(stderr, "aetherd: %s\n", err.message);
            return EXIT_USAGE;
        }
    }
    return 0;
}
