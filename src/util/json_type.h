/* The name of a JSON value's type as an error message says it ("must be an
 * object, not an array"): one wording for every protocol front end (MCP, LSP). */
#ifndef AE_UTIL_JSON_TYPE_H
#define AE_UTIL_JSON_TYPE_H

#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a number", "a boolean",
 * "null"; "missing" for NULL (an absent member). */
const char *ae_json_type_name(const json_t *v);

#endif
