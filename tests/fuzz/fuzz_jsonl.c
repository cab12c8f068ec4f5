/* libFuzzer: one line of a JSONL embeddings import.  A clean AE_EINVAL is fine;
 * a crash, a leak or an accepted record that fails validation is a bug. */
#include "store/jsonl.h"
#include "vectors/vs_validate.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ae_vs_record rec;
    void *owner;
    float *vec;
    ae_error err;
    if (ae_jsonl_parse_line((const char *)data, size, &rec, &owner, &vec, &err) == 0) {
        if (ae_vs_validate_records(&rec, 1, &err) != 0) abort();
        ae_jsonl_release(owner, vec);
    }
    return 0;
}
