/* fuzz_ptd.c - ptd_perturb_load (PTD text files).  A file loaded is saved and loaded again:
 * the second save must equal the first, byte for byte (the writer prints 17 digits, so the
 * round trip is the identity whatever fields the format has). */
#include "fuzz.h"

static char *save_text(const ptd_ptd *p, size_t *len)
{
    char *text = NULL;
    FILE *w = open_memstream(&text, len);
    FUZZ_REQUIRE(w && ptd_perturb_save(w, p) == PTD_OK, "save: %s", ptd_last_error());
    fclose(w);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once();
    FILE *f = fuzz_stream(data, size);
    FUZZ_REQUIRE(f, "no stream");
    ptd_ptd *p = (ptd_ptd *)1;
    int st = ptd_perturb_load(f, "fuzz.ptd", &p);
    fclose(f);
    if (st) {
        fuzz_failed(st, p);
        return 0;
    }
    FUZZ_REQUIRE(p && p->n >= 1 && p->n <= PTD_ZOO_MAX_N && p->reflected <= p->n, "bad header values");
    size_t len1, len2;
    char *t1 = save_text(p, &len1);
    ptd_ptd *q = NULL;
    FILE *r = fmemopen(t1, len1, "r");
    FUZZ_REQUIRE(ptd_perturb_load(r, "again", &q) == PTD_OK, "load back: %s", ptd_last_error());
    fclose(r);
    char *t2 = save_text(q, &len2);
    FUZZ_REQUIRE(len1 == len2 && memcmp(t1, t2, len1) == 0, "save(load(save)) differs from save");
    free(t1), free(t2);
    ptd_ptd_free(q);
    ptd_ptd_free(p);
    return 0;
}
