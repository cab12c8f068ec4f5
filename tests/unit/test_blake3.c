/* BLAKE3: official-style vectors (byte i = i % 251), a differential check
 * against Debian's b3sum on temp files, and incremental == one-shot; each at
 * every kernel level the CPU has (portable, 8 lanes, 16 lanes). */
#include "util/blake3.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i % 251);
    return p;
}

static void hex_of(const uint8_t d[AE_BLAKE3_OUT_LEN], char out[AE_BLAKE3_HEX_LEN + 1])
{
    for (int i = 0; i < AE_BLAKE3_OUT_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static const struct {
    size_t len;
    const char *hex;
} VECTORS[] = {
    {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
    {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
    {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
    {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
    {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
    {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
    {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
    {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
    {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
    {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
    {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
    {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
    {5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
    {6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
    {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
    {7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
    {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
    {8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
    {8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
    {16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
    {31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
    {102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
};

static void test_empty_known_value(void **state)
{
    (void)state;
    char hex[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex("", 0, hex);
    assert_string_equal(hex, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assert_int_equal(strlen(hex), AE_BLAKE3_HEX_LEN);
    /* A one-bit change must change the digest. */
    char hex2[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex("a", 1, hex);
    blake3_hex("b", 1, hex2);
    assert_string_not_equal(hex, hex2);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof VECTORS / sizeof VECTORS[0]; v++) {
        uint8_t *p = pattern(VECTORS[v].len);
        char hex[AE_BLAKE3_HEX_LEN + 1];
        blake3_hex(p, VECTORS[v].len, hex);
        if (strcmp(hex, VECTORS[v].hex) != 0)
            fail_msg("len %zu: got %s, want %s", VECTORS[v].len, hex, VECTORS[v].hex);
        free(p);
    }
}

/* Runs b3sum on a temp file holding data; false when b3sum is unavailable. */
static int b3sum_hex(const uint8_t *data, size_t len, char out[AE_BLAKE3_HEX_LEN + 1])
{
    char path[] = "/tmp/ae-b3-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "b3sum --no-names %s 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[256] = {0};
    char *got = fgets(line, sizeof line, f);
    int status = pclose(f);
    unlink(path);
    if (!got || status != 0) return 0;
    assert_true(strlen(line) >= AE_BLAKE3_HEX_LEN);
    memcpy(out, line, AE_BLAKE3_HEX_LEN);
    out[AE_BLAKE3_HEX_LEN] = '\0';
    return 1;
}

static void test_against_b3sum(void **state)
{
    (void)state;
    static const size_t lens[] = {0,    1,    63,   64,    65,    127,    128,    129,  1023,
                                  1024, 1025, 2047, 2048,  2049,  3072,   3073,   4096, 4097,
                                  5120, 8192, 8193, 16384, 31744, 102400, 1048577};
    char want[AE_BLAKE3_HEX_LEN + 1], got[AE_BLAKE3_HEX_LEN + 1];
    /* The differential test is the point: a missing b3sum fails rather than
     * skips (scripts/install-deps.sh installs it). */
    if (!b3sum_hex((const uint8_t *)"", 0, want)) fail_msg("b3sum not runnable; install b3sum");
    size_t nfixed = sizeof lens / sizeof lens[0];
    srand(12345);
    for (size_t k = 0; k < nfixed + 6; k++) {
        size_t n = k < nfixed ? lens[k] : (size_t)(rand() % 200000);
        uint8_t *p = malloc(n ? n : 1);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)rand();
        assert_true(b3sum_hex(p, n, want));
        blake3_hex(p, n, got);
        if (strcmp(got, want) != 0) fail_msg("len %zu: got %s, b3sum says %s", n, got, want);
        free(p);
    }
}

static void test_incremental_equals_oneshot(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 64, 65, 1024, 1025, 3073, 8193, 70001};
    static const size_t steps[] = {1, 3, 7, 63, 64, 65, 1000, 1023, 1024, 1025, 4099};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        uint8_t *p = pattern(n);
        char want[AE_BLAKE3_HEX_LEN + 1], got[AE_BLAKE3_HEX_LEN + 1];
        blake3_hex(p, n, want);
        for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
            ae_blake3 h;
            uint8_t d[AE_BLAKE3_OUT_LEN];
            ae_blake3_init(&h);
            size_t off = 0, step = steps[si];
            while (off < n) {
                size_t take = n - off < step ? n - off : step;
                ae_blake3_update(&h, p + off, take);
                ae_blake3_update(&h, p + off, 0); /* empty updates change nothing */
                off += take;
                step = step * 2 + 1; /* vary split points */
            }
            ae_blake3_final(&h, d);
            /* final is const: calling it twice gives the same digest */
            uint8_t d2[AE_BLAKE3_OUT_LEN];
            ae_blake3_final(&h, d2);
            assert_memory_equal(d, d2, AE_BLAKE3_OUT_LEN);
            hex_of(d, got);
            if (strcmp(got, want) != 0)
                fail_msg("len %zu step %zu: incremental %s != one-shot %s", n, steps[si], got,
                         want);
        }
        free(p);
    }
}

/* The wide kernels against the portable one on inputs around their
 * thresholds (k x 16 chunks +- 1 byte), long ones, and odd split points that
 * start a wide run in the middle of the input. */
static void test_kernels_agree(void **state)
{
    (void)state;
    static const size_t lens[] = {8 * 1024,       8 * 1024 + 1,  16 * 1024,     16 * 1024 + 1,
                                  17 * 1024 - 1,  24 * 1024 + 7, 32 * 1024,     32 * 1024 + 1,
                                  48 * 1024 + 64, 1 << 20,       (1 << 20) + 1, 3 * 1000 * 1000};
    int have = ae_blake3_force_lanes(0);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        uint8_t *p = malloc(n);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(i * 131 + (i >> 11));
        char want[AE_BLAKE3_HEX_LEN + 1], got[AE_BLAKE3_HEX_LEN + 1];
        assert_int_equal(ae_blake3_force_lanes(1), 1);
        blake3_hex(p, n, want);
        for (int lv = 8; lv <= have; lv *= 2) {
            assert_int_equal(ae_blake3_force_lanes(lv), lv);
            blake3_hex(p, n, got);
            if (strcmp(got, want) != 0)
                fail_msg("len %zu: %d lanes %s != portable %s", n, lv, got, want);
            static const size_t first[] = {1, 63, 1000, 1024, 5000, 17 * 1024};
            for (size_t fi = 0; fi < sizeof first / sizeof first[0]; fi++) {
                if (first[fi] >= n) continue;
                ae_blake3 h;
                uint8_t d[AE_BLAKE3_OUT_LEN];
                ae_blake3_init(&h);
                ae_blake3_update(&h, p, first[fi]);
                ae_blake3_update(&h, p + first[fi], n - first[fi]);
                ae_blake3_final(&h, d);
                hex_of(d, got);
                if (strcmp(got, want) != 0)
                    fail_msg("len %zu split at %zu: %d lanes %s != portable %s", n, first[fi], lv,
                             got, want);
            }
        }
        free(p);
    }
    ae_blake3_force_lanes(0);
}

/* The whole suite again at each level the CPU has. */
static int at_level(int lanes)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_known_value),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_against_b3sum),
        cmocka_unit_test(test_incremental_equals_oneshot),
    };
    int got = ae_blake3_force_lanes(lanes);
    if (got != lanes) return 0; /* this CPU has no such kernel */
    printf("# BLAKE3 kernel: %d lanes\n", lanes);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
    int fails = at_level(1) + at_level(8) + at_level(16);
    ae_blake3_force_lanes(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_agree),
    };
    return fails + cmocka_run_group_tests(tests, NULL, NULL);
}
