/* The SIR record ("Structured Intermediate Representation") of one symbol. */
#ifndef AE_SIR_SIR_H
#define AE_SIR_SIR_H

#include "util/blake3.h"
#include "util/mem.h"

#include <aether/error.h>

typedef struct ae_sir {
    char *intent; /* required, non-blank */
    ae_strlist inputs, outputs, side_effects, dependencies, error_modes;
    double confidence; /* in [0, 1] */
} ae_sir;

/* Frees what the record owns and zeroes it; accepts NULL. */
void ae_sir_clear(ae_sir *s);

/* Checks a record: intent present, non-blank; confidence finite in [0, 1]; every string
 * non-NULL valid UTF-8.  AE_EINVAL with the field named otherwise. */
int ae_sir_validate(const ae_sir *s, ae_error *err);

/* Canonical JSON: compact, keys sorted, lists sorted bytewise, confidence in
 * shortest round-trip form ("1.0", "0.75").  *json is allocated, caller frees. */
int ae_sir_canonical_json(const ae_sir *s, char **json, ae_error *err);
/* blake3_hex of the canonical JSON. */
int ae_sir_hash(const ae_sir *s, char out[AE_BLAKE3_HEX_LEN + 1], ae_error *err);
/* Parses and validates a SIR JSON object: intent (string) and confidence (number) required,
 * missing lists are empty, unknown or duplicate keys are an error.  *out is overwritten
 * (not cleared first); on success the caller frees it with ae_sir_clear, on failure it is
 * left empty. */
int ae_sir_from_json(const char *json, ae_sir *out, ae_error *err);

#endif
