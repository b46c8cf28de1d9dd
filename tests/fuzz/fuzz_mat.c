/* fuzz_mat.c - ptd_perturb_load_mat (PTD systems as MATLAB v5 / v7.3 files, libmatio).  The
 * input is read as it is (no A given: the file's own A, if any), and, when that fails only for
 * want of an A, against LegS of the file's order (at most 64, to keep a run short).  A system
 * loaded is saved (v5) and loaded again: its arrays must come back bit for bit and its
 * recomputed figures be the same numbers. */
#include "fuzz.h"

#include <math.h>

static int same(const ptd_ptd *p, const ptd_ptd *q)
{
    size_t n = p->n;
    return q->n == n && !memcmp(p->lambda, q->lambda, n * sizeof *p->lambda) &&
           !memcmp(p->V->data, q->V->data, n * n * sizeof *p->V->data) &&
           !memcmp(p->Vinv->data, q->Vinv->data, n * n * sizeof *p->Vinv->data) &&
           !memcmp(p->E->data, q->E->data, n * n * sizeof *p->E->data) &&
           (p->kappa_V == q->kappa_V || (isnan(p->kappa_V) && isnan(q->kappa_V))) && p->reflected == q->reflected;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once();
    fuzz_file in;
    fuzz_file_open(&in, data, size);
    ptd_ptd *p = (ptd_ptd *)1;
    ptd_system *s = NULL;
    int st = ptd_perturb_load_mat(in.path, NULL, NULL, NULL, &p);
    size_t n = 0;
    if (st == PTD_EFORMAT && strstr(ptd_last_error(), "no variable A") &&
        ptd_perturb_file_order(in.path, &n) == PTD_OK && n >= 1 && n <= 64 &&
        ptd_zoo_make("hippo-legs", n, 0, &s) == PTD_OK)
        st = ptd_perturb_load_mat(in.path, s->A, s->B, NULL, &p);
    if (st) {
        fuzz_failed(st, p);
    } else {
        FUZZ_REQUIRE(p && p->n >= 1 && p->n <= PTD_ZOO_MAX_N && p->reflected <= p->n, "bad values");
        char dir[] = "/tmp/fuzz-mat-XXXXXX", path[64];
        FUZZ_REQUIRE(mkdtemp(dir), "mkdtemp");
        snprintf(path, sizeof path, "%s/again.mat", dir);
        FUZZ_REQUIRE(ptd_perturb_save_mat(path, p, s ? s->A : NULL, 5) == PTD_OK, "save: %s", ptd_last_error());
        ptd_ptd *q = NULL;
        /* the saved file has E (and A when given): it loads without one */
        FUZZ_REQUIRE(ptd_perturb_load_mat(path, s ? s->A : NULL, NULL, NULL, &q) == PTD_OK || !s,
                     "load back: %s", ptd_last_error());
        if (q) FUZZ_REQUIRE(same(p, q), "load(save(p)) differs from p");
        ptd_ptd_free(q);
        unlink(path);
        rmdir(dir);
        ptd_ptd_free(p);
    }
    ptd_system_free(s);
    fuzz_file_close(&in);
    return 0;
}
