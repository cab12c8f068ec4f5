/* libFuzzer: the legacy sir_embeddings.embedding_json parser of the SQLite
 * backend (built with AE_TESTING so the parser is reachable).  Parses for
 * several declared dims; whatever it accepts must be finite floats. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sqlite_parse_floats(const char *s, float *out, uint32_t dim);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    static const uint32_t dims[] = {1, 3, 64, 384};
    float out[384];
    for (size_t d = 0; d < sizeof dims / sizeof *dims; d++)
        if (sqlite_parse_floats(s, out, dims[d]) == 0)
            for (uint32_t i = 0; i < dims[d]; i++)
                if (isnan(out[i])) abort();
    free(s);
    return 0;
}
