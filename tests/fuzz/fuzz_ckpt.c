/* fuzz_ckpt.c - ptd_train_model_load (ssm-train checkpoints).  Each input is loaded as it is
 * and with its last four bytes replaced by the right CRC-32, so that mutations reach the
 * checks behind the checksum.  A checkpoint loaded and saved again must be the same bytes. */
#include "fuzz.h"

#include <zlib.h>

static void load_one(const uint8_t *data, size_t size)
{
    fuzz_file f;
    fuzz_file_open(&f, data, size);
    ptd_train_model *m = (ptd_train_model *)1;
    int st = ptd_train_model_load(f.path, &m);
    fuzz_file_close(&f);
    if (st) {
        fuzz_failed(st, m);
        return;
    }
    FUZZ_REQUIRE(m, "no model");
    char dir[] = "/tmp/fuzz-ckpt-XXXXXX", path[64];
    FUZZ_REQUIRE(mkdtemp(dir), "mkdtemp");
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    FUZZ_REQUIRE(ptd_train_model_save(m, path) == PTD_OK, "save: %s", ptd_last_error());
    FILE *r = fopen(path, "rb");
    unsigned char *back = malloc(size + 1);
    size_t n = fread(back, 1, size + 1, r);
    fclose(r);
    unlink(path);
    rmdir(dir);
    FUZZ_REQUIRE(n == size && memcmp(back, data, size) == 0, "save(load(x)) is not x (%zu bytes, %zu)", n, size);
    free(back);
    ptd_train_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once();
    load_one(data, size);
    if (size >= 8) {
        unsigned char *fixed = malloc(size);
        memcpy(fixed, data, size);
        uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
        memcpy(fixed + size - 4, &crc, 4);
        if (memcmp(fixed, data, size) != 0) load_one(fixed, size);
        free(fixed);
    }
    return 0;
}
