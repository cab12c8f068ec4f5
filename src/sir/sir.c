/* The SIR record: validation, canonical JSON and its hash.
 *
 * What is unusual here:
 * 1. The canonical JSON is written by hand, byte for byte what the reference tool's serde_json
 *    emits for the same record (compact, keys alphabetical, lists sorted bytewise, control
 *    characters as \n \t \r \b \f or \u00xx with lower-case hex, non-ASCII UTF-8 passed through),
 *    so sir_hash values are interchangeable with it.  jansson's dumper is not used: its number
 *    and escape forms differ.
 * 2. confidence is printed like Rust's ryu: the shortest digits that round-trip, then "1.0" not
 *    "1", "0.00001" not "1e-05", "1e-7" not "1e-07".
 * 3. A record is validated before it is serialized or hashed, so an invalid record never gets a
 *    hash; the same validation runs on parsed JSON, where unknown keys are an error. */
#include "sir/sir.h"
#include "sir/sir_internal.h"

#include "util/bytes.h"
#include "util/err.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIR_LIST_COUNT 5

/* The list fields in canonical (alphabetical) key order. */
static const char *const list_keys[SIR_LIST_COUNT] = {"dependencies", "error_modes", "inputs",
                                                      "outputs", "side_effects"};

static ae_strlist *list_field(ae_sir *s, int i)
{
    ae_strlist *fields[SIR_LIST_COUNT] = {&s->dependencies, &s->error_modes, &s->inputs,
                                          &s->outputs, &s->side_effects};
    return fields[i];
}

static const ae_strlist *list_field_const(const ae_sir *s, int i)
{
    return list_field((ae_sir *)s, i);
}

void ae_sir_clear(ae_sir *s)
{
    if (!s) return;
    free(s->intent);
    s->intent = NULL;
    for (int i = 0; i < SIR_LIST_COUNT; i++)
        ae_strlist_free(list_field(s, i));
    s->confidence = 0;
}

size_t sir_utf8_valid_prefix(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (s[i]) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return i;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
        i += n + 1;
    }
    return i;
}

static int check_text(const char *what, const char *text, ae_error *err)
{
    size_t ok = sir_utf8_valid_prefix(text);
    AE_RETURN_IF(text[ok] != '\0', err, AE_EINVAL, "%s: invalid utf-8 at byte %zu", what, ok);
    return 0;
}

int ae_sir_validate(const ae_sir *s, ae_error *err)
{
    AE_RETURN_IF(!s, err, AE_EINVAL, "sir: no record");
    AE_RETURN_IF(!s->intent, err, AE_EINVAL, "sir: intent is missing");
    AE_TRY(check_text("sir intent", s->intent, err));
    size_t blank = strspn(s->intent, " \t\r\n\f\v");
    AE_RETURN_IF(s->intent[blank] == '\0', err, AE_EINVAL, "sir: intent is blank");
    AE_RETURN_IF(!isfinite(s->confidence) || s->confidence < 0 || s->confidence > 1, err, AE_EINVAL,
                 "sir: confidence must be in [0, 1], not %g", s->confidence);
    for (int i = 0; i < SIR_LIST_COUNT; i++) {
        const ae_strlist *l = list_field_const(s, i);
        AE_RETURN_IF(l->len && !l->items, err, AE_EINVAL, "sir %s: no items", list_keys[i]);
        for (size_t k = 0; k < l->len; k++) {
            AE_RETURN_IF(!l->items[k], err, AE_EINVAL, "sir %s[%zu]: null string", list_keys[i], k);
            char what[64];
            snprintf(what, sizeof what, "sir %s[%zu]", list_keys[i], k);
            AE_TRY(check_text(what, l->items[k], err));
        }
    }
    return 0;
}

/* serde_json's string escaping. */
static int put_json_string(ae_buf *b, const char *s)
{
    AE_TRY(ae_buf_append(b, "\"", 1));
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != '\0' && c >= 0x20 && c != '"' && c != '\\') continue;
        AE_TRY(ae_buf_append(b, run, (size_t)(p - run)));
        if (c == '\0') break;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            ae_hex_encode(&c, 1, esc + 4);
            n = 6;
        }
        AE_TRY(ae_buf_append(b, esc, n));
        run = p + 1;
    }
    return ae_buf_append(b, "\"", 1);
}

/* Shortest round-trip decimal digits of a finite x > 0 and its decimal exponent:
 * x == 0.d1d2d3... * 10^k, i.e. ryu's (digits, kk). */
static void shortest_digits(double x, char digits[20], int *kk)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
        if (strtod(tmp, NULL) == x) break;
    }
    /* tmp is "d[.ddd]e[+-]NN" */
    size_t n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *kk = atoi(p + 1) + 1;
}

/* Formats like Rust's ryu (what serde_json uses for f64). */
AE_STATIC void sir_format_double(double x, char out[40])
{
    char *o = out;
    if (signbit(x)) *o++ = '-';
    x = fabs(x);
    if (x == 0) {
        strcpy(o, "0.0");
        return;
    }
    char d[20];
    int kk;
    shortest_digits(x, d, &kk);
    int len = (int)strlen(d);
    if (kk > 0 && kk <= 16) { /* ddd.0 or dd.dd */
        for (int i = 0; i < kk; i++)
            *o++ = i < len ? d[i] : '0';
        *o++ = '.';
        if (len <= kk) *o++ = '0';
        for (int i = kk; i < len; i++)
            *o++ = d[i];
        *o = '\0';
    } else if (kk > -5 && kk <= 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -kk; i++)
            *o++ = '0';
        strcpy(o, d);
    } else if (len == 1) { /* de-N */
        sprintf(o, "%se%d", d, kk - 1);
    } else { /* d.ddde-N */
        sprintf(o, "%c.%se%d", d[0], d + 1, kk - 1);
    }
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int put_sorted_list(ae_buf *b, const ae_strlist *l)
{
    const char **sorted = NULL;
    if (l->len) {
        sorted = ae_calloc_array(l->len, sizeof *sorted);
        if (!sorted) return AE_ENOMEM;
        memcpy(sorted, l->items, l->len * sizeof *sorted);
        qsort(sorted, l->len, sizeof *sorted, cmp_cstr);
    }
    int rc = ae_buf_append(b, "[", 1);
    for (size_t i = 0; rc == 0 && i < l->len; i++) {
        if (i) rc = ae_buf_append(b, ",", 1);
        if (rc == 0) rc = put_json_string(b, sorted[i]);
    }
    if (rc == 0) rc = ae_buf_append(b, "]", 1);
    free(sorted);
    return rc;
}

int ae_sir_canonical_json(const ae_sir *s, char **json, ae_error *err)
{
    AE_RETURN_IF(!json, err, AE_EINVAL, "sir: no output pointer");
    *json = NULL;
    AE_TRY(ae_sir_validate(s, err));
    ae_buf b = {0};
    char num[40];
    sir_format_double(s->confidence, num);
    int rc = ae_buf_printf(&b, "{\"confidence\":%s", num);
    for (int i = 0; i < 3 && rc == 0; i++) { /* dependencies, error_modes, inputs */
        rc = ae_buf_printf(&b, ",\"%s\":", list_keys[i]);
        if (rc == 0) rc = put_sorted_list(&b, list_field_const(s, i));
    }
    if (rc == 0) rc = ae_buf_puts(&b, ",\"intent\":");
    if (rc == 0) rc = put_json_string(&b, s->intent);
    for (int i = 3; i < SIR_LIST_COUNT && rc == 0; i++) { /* outputs, side_effects */
        rc = ae_buf_printf(&b, ",\"%s\":", list_keys[i]);
        if (rc == 0) rc = put_sorted_list(&b, list_field_const(s, i));
    }
    if (rc == 0) rc = ae_buf_append(&b, "}", 1);
    if (rc < 0) {
        ae_buf_free(&b);
        return ae_fail(err, AE_ENOMEM, "sir: out of memory writing canonical json");
    }
    *json = b.data;
    return 0;
}

int ae_sir_hash(const ae_sir *s, char out[AE_BLAKE3_HEX_LEN + 1], ae_error *err)
{
    char *json = NULL;
    AE_TRY(ae_sir_canonical_json(s, &json, err));
    blake3_hex(json, strlen(json), out);
    free(json);
    return 0;
}

static int list_index(const char *key)
{
    for (int i = 0; i < SIR_LIST_COUNT; i++)
        if (strcmp(key, list_keys[i]) == 0) return i;
    return -1;
}

int ae_sir_from_json(const char *text, ae_sir *out, ae_error *err)
{
    AE_RETURN_IF(!text || !out, err, AE_EINVAL, "sir: no input");
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    AE_RETURN_IF(!root, err, AE_EINVAL, "sir json: line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
    int rc = 0;
    bool have_confidence = false;
    if (!json_is_object(root)) AE_FAIL(err, AE_EINVAL, "sir json: expected an object");
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        int li = list_index(key);
        if (strcmp(key, "intent") == 0) {
            if (!json_is_string(val)) AE_FAIL(err, AE_EINVAL, "sir json: intent must be a string");
            out->intent = ae_strdup(json_string_value(val));
            if (!out->intent) AE_FAIL(err, AE_ENOMEM, "sir json: out of memory");
        } else if (strcmp(key, "confidence") == 0) {
            if (!json_is_number(val))
                AE_FAIL(err, AE_EINVAL, "sir json: confidence must be a number");
            out->confidence = json_number_value(val);
            have_confidence = true;
        } else if (li >= 0) {
            if (!json_is_array(val))
                AE_FAIL(err, AE_EINVAL, "sir json: %s must be an array of strings", key);
            ae_strlist *l = list_field(out, li);
            size_t i;
            json_t *item;
            json_array_foreach(val, i, item)
            {
                if (!json_is_string(item))
                    AE_FAIL(err, AE_EINVAL, "sir json: %s[%zu] must be a string", key, i);
                if (ae_strlist_push(l, json_string_value(item)) < 0)
                    AE_FAIL(err, AE_ENOMEM, "sir json: out of memory");
            }
        } else {
            AE_FAIL(err, AE_EINVAL,
                    "sir json: unknown key \"%.64s\" (expected confidence, dependencies, "
                    "error_modes, inputs, intent, outputs, side_effects)",
                    key);
        }
    }
    if (!out->intent) AE_FAIL(err, AE_EINVAL, "sir json: intent is missing");
    if (!have_confidence) AE_FAIL(err, AE_EINVAL, "sir json: confidence is missing");
    AE_CHECK(ae_sir_validate(out, err));
cleanup:
    json_decref(root);
    if (rc < 0) ae_sir_clear(out);
    return rc;
}
