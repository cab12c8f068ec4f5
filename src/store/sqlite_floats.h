/* The legacy backend's JSON float-array parser, shared with migration
 * (src/store/migrate.c) so both read sir_embeddings.embedding_json with the
 * same rules and the same float32 results. */
#ifndef AE_STORE_SQLITE_FLOATS_H
#define AE_STORE_SQLITE_FLOATS_H

#include <stdint.h>

/* Parses a JSON array of exactly `dim` finite numbers into out[0..dim).
 * Returns 0, or -1 for anything else (bad syntax, wrong count, a value that
 * overflows float32, NaN/Infinity spellings).  Allocates nothing. */
int ae_sqlite_parse_floats(const char *s, float *out, uint32_t dim);

#endif
