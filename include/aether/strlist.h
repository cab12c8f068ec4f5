/* A growable list of owned strings, as reports hand them out (the report's
 * _free function frees them). */
#ifndef AETHER_STRLIST_H
#define AETHER_STRLIST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ae_strlist {
    char **items;
    size_t len, cap;
} ae_strlist;

/* Frees every string and the array; the list is empty afterwards. */
void ae_strlist_free(ae_strlist *l);

#ifdef __cplusplus
}
#endif
#endif
