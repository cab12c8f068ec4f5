/* aetherd's log on stderr (--log-format): human lines, or one JSON object per line
 * {"level", "message", "fields": {...}} that a log shipper can parse line by line. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_log(log_format fmt, const char *level, const char *message, const cli_log_field *f,
             size_t n)
{
    if (fmt == LOG_JSON) {
        json_t *fields = json_object();
        for (size_t i = 0; i < n; i++) {
            if (f[i].number)
                json_object_set_new(fields, f[i].key, json_integer(strtoll(f[i].number, NULL, 10)));
            else
                json_object_set_new(fields, f[i].key,
                                    f[i].str ? json_string(f[i].str) : json_null());
        }
        json_t *o =
            json_pack("{s:s, s:s, s:o}", "level", level, "message", message, "fields", fields);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) fprintf(stderr, "%s\n", s);
        free(s);
        json_decref(o);
    } else if (!strcmp(level, "info")) {
        fprintf(stderr, "aetherd: %s\n", message);
    } else {
        fprintf(stderr, "aetherd: %s: %s\n", !strcmp(level, "warn") ? "warning" : level, message);
    }
    fflush(stderr);
}
