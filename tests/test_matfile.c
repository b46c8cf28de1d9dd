/* test_matfile.c - PTD systems as MATLAB files: ptdkit's own round trip bit for bit (v5 and
 * v7.3), files with only the authors' variables Lam, V and Vinv written here through libmatio
 * (no third-party data), what a loaded file reports recomputed independently, and malformed
 * files refused with a one-line message. */
#include "testutil.h"

#include <matio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/ptd-matfile-XXXXXX";

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static enum mat_ft ft_of(int version)
{
    return version == 5 ? MAT_FT_MAT5 : MAT_FT_MAT73;
}

/* Write a rows x cols double variable: complex when im is not NULL. */
static void put(mat_t *m, const char *name, size_t rows, size_t cols, double *re, double *im)
{
    size_t dims[2] = {rows, cols};
    mat_complex_split_t z = {re, im};
    matvar_t *v = Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, im ? (void *)&z : (void *)re,
                                im ? MAT_F_COMPLEX | MAT_F_DONT_COPY_DATA : MAT_F_DONT_COPY_DATA);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(Mat_VarWrite(m, v, MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(v);
}

/* A complex n-vector or n x n matrix x, split. */
static void put_complex(mat_t *m, const char *name, const double complex *x, size_t rows, size_t cols)
{
    size_t c = rows * cols;
    double *re = malloc(c * sizeof *re), *im = malloc(c * sizeof *im);
    for (size_t k = 0; k < c; k++) re[k] = creal(x[k]), im[k] = cimag(x[k]);
    put(m, name, rows, cols, re, im);
    free(re);
    free(im);
}

/* An authors' file: Lam as a row vector (MATLAB's diag gives either), V with its columns
 * scaled by `colscale` (1: unit columns as eig gives them), Vinv to match. */
static void write_authors(const char *path, int version, const ptd_ptd *p, double colscale)
{
    size_t n = p->n;
    mat_t *m = Mat_CreateVer(path, NULL, ft_of(version));
    ck_assert_msg(m != NULL, "libmatio cannot create a version %d file", version);
    double complex *V = malloc(n * n * sizeof *V), *W = malloc(n * n * sizeof *W);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            V[i + j * n] = PTD_AT(p->V, i, j) * colscale;
            W[i + j * n] = PTD_AT(p->Vinv, i, j) / colscale;
        }
    put_complex(m, "Lam", p->lambda, 1, n);
    put_complex(m, "V", V, n, n);
    put_complex(m, "Vinv", W, n, n);
    Mat_Close(m);
    free(V);
    free(W);
}

/* ptdkit's files: every array back bit for bit, for a complex and a real E, and the measured
 * values (recomputed on loading) equal to the saved system's. */
START_TEST(test_round_trip)
{
    size_t n = 8;
    ptd_system *s = make("hippo-legs", n);
    ptd_matrix *C = ptd_matrix_alloc(1, n);
    for (size_t i = 0; i < n; i++) C->data[i] = 1.0 / (1.0 + (double)i);
    for (int real = 0; real <= 1; real++) {
        ptd_perturb_opts o = {.max_rel = 0.05, .steps = 60, .seed = 3, .real = real};
        ptd_ptd *p = NULL;
        ck_assert_msg(ptd_perturb_optimize(s->A, s->B, C, &o, &p) == PTD_OK, "%s", ptd_last_error());
        for (int version = 5; version <= 73; version += 68) {
            char path[256];
            path_in(path, sizeof path, version == 5 ? "own5.mat" : "own73.mat");
            ck_assert_msg(ptd_perturb_save_mat(path, p, s->A, version) == PTD_OK, "%s", ptd_last_error());
            ck_assert(ptd_perturb_is_mat(path));
            ptd_ptd *q = NULL;
            ck_assert_msg(ptd_perturb_read(path, s->A, s->B, C, &q) == PTD_OK, "%s", ptd_last_error());
            ck_assert_uint_eq(q->n, n);
            ck_assert(memcmp(q->lambda, p->lambda, n * sizeof(double complex)) == 0);
            ck_assert(memcmp(q->V->data, p->V->data, n * n * sizeof(double complex)) == 0);
            ck_assert(memcmp(q->Vinv->data, p->Vinv->data, n * n * sizeof(double complex)) == 0);
            ck_assert(memcmp(q->E->data, p->E->data, n * n * sizeof(double complex)) == 0);
            ck_assert(memcmp(q->Btilde->data, p->Btilde->data, n * sizeof(double complex)) == 0);
            ck_assert(memcmp(q->Ctilde->data, p->Ctilde->data, n * sizeof(double complex)) == 0);
            ck_assert_double_eq(q->kappa_V, p->kappa_V);
            ck_assert_double_eq(q->backward_error, p->backward_error);
            ck_assert_double_eq(q->rel_E, p->rel_E);
            ck_assert_uint_eq(q->reflected, p->reflected);
            ck_assert_int_eq(q->real, real);
            size_t order = 0;
            ck_assert_int_eq(ptd_perturb_file_order(path, &order), PTD_OK);
            ck_assert_uint_eq(order, n);
            /* without the caller's A the file's own A is used */
            ptd_ptd_free(q);
            ck_assert_msg(ptd_perturb_load_mat(path, NULL, NULL, NULL, &q) == PTD_OK, "%s", ptd_last_error());
            ck_assert_double_eq(q->backward_error, p->backward_error);
            ptd_ptd_free(q);
        }
        ptd_ptd_free(p);
    }
    ptd_matrix_free(C);
    ptd_system_free(s);
}
END_TEST

/* The authors' files: only Lam, V and Vinv (v5 and v7.3).  E is then V diag(Lam) Vinv - A
 * for the caller's A; it is the E of the system (to the rounding of the product, which
 * kappa(V) amplifies: 10 n u kappa ||A||), and what is reported is recomputed here:
 * kappa_2(V) as ||V||_2 ||Vinv||_2 of the unit-column V (Vinv the inverse: equal to
 * 10 n u kappa^2), ||E||/||A|| by an SVD of the E formed, the backward error entry by entry.
 * V with columns scaled by 3 gives the same system and, scaled back, the same kappa. */
START_TEST(test_authors_file)
{
    size_t n = 12;
    ptd_system *s = make("hippo-legs", n);
    ptd_ptd *p = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, NULL, NULL, 1e-3, 5, &p), PTD_OK);
    ck_assert_uint_eq(p->reflected, 0);
    double na;
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &na), PTD_OK);
    for (int version = 5; version <= 73; version += 68)
        for (int scaled = 0; scaled <= 1; scaled++) {
            char path[256];
            path_in(path, sizeof path, version == 5 ? "authors5.mat" : "authors73.mat");
            write_authors(path, version, p, scaled ? 3.0 : 1.0);
            ptd_ptd *q = NULL;
            ck_assert_msg(ptd_perturb_read(path, s->A, s->B, NULL, &q) == PTD_OK, "%s", ptd_last_error());
            double tol = 10 * n * U_ROUND * p->kappa_V * na;
            for (size_t k = 0; k < n * n; k++) ck_assert_double_le(cabs(q->E->data[k] - p->E->data[k]), tol);
            double nv, nw, ne;
            ck_assert_int_eq(ptd_matrix_norm2(q->V, &nv), PTD_OK);
            ck_assert_int_eq(ptd_matrix_norm2(q->Vinv, &nw), PTD_OK);
            assert_close(q->kappa_V, nv * nw, 0, 10 * n * U_ROUND * p->kappa_V * p->kappa_V);
            assert_close(q->kappa_V, p->kappa_V, 0, 10 * n * U_ROUND * p->kappa_V * p->kappa_V);
            ck_assert_int_eq(ptd_matrix_norm2(q->E, &ne), PTD_OK);
            assert_close(q->rel_E, ne / na, 0, 10 * n * U_ROUND);
            assert_close(q->rel_E, 1e-3, tol / na, 0);
            assert_close(q->backward_error, returned_backward_error(q, s->A), 10 * n * U_ROUND * p->kappa_V, 0);
            ck_assert_uint_eq(q->reflected, 0);
            ck_assert_ptr_nonnull(q->Btilde);
            /* the summary line names the figures */
            char what[256];
            ck_assert_int_eq(ptd_perturb_describe(q, what, sizeof what), PTD_OK);
            ck_assert_msg(strstr(what, "n = 12,") && strstr(what, "0 of positive real part"), "%s", what);
            ptd_ptd_free(q);
        }
    /* an eigenvalue in the right half-plane is kept as the file has it, and counted */
    ptd_ptd *r = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, NULL, NULL, 1e-3, 5, &r), PTD_OK);
    r->lambda[0] = CMPLX(3.5, cimag(r->lambda[0]));
    char path[256];
    path_in(path, sizeof path, "positive.mat");
    write_authors(path, 5, r, 1.0);
    ptd_ptd *q = NULL;
    ck_assert_msg(ptd_perturb_read(path, s->A, NULL, NULL, &q) == PTD_OK, "%s", ptd_last_error());
    ck_assert_double_eq(creal(q->lambda[0]), 3.5);
    char what[256];
    ptd_perturb_describe(q, what, sizeof what);
    ck_assert_msg(strstr(what, "1 of positive real part"), "%s", what);
    assert_close(q->backward_error, returned_backward_error(q, s->A), 10 * n * U_ROUND * p->kappa_V, 0);
    ck_assert_double_gt(q->backward_error, 1e-3);
    ptd_ptd_free(q);
    ptd_ptd_free(r);
    ptd_ptd_free(p);
    ptd_system_free(s);
}
END_TEST

typedef enum { BAD_MISSING_V, BAD_MISSING_LAM, BAD_MISSING_VINV, BAD_V_SHAPE, BAD_LAM_SIZE, BAD_TYPE, BAD_NAN,
               BAD_A_OTHER, BAD_NO_A, NBAD } bad_kind;

/* A file of kind k for the order-4 system p (A: LegS 4). */
static void write_bad(const char *path, int version, bad_kind k, const ptd_ptd *p)
{
    size_t n = p->n;
    mat_t *m = Mat_CreateVer(path, NULL, ft_of(version));
    ck_assert_ptr_nonnull(m);
    double complex *V = malloc((n + 1) * (n + 1) * sizeof *V);
    memcpy(V, p->V->data, n * n * sizeof *V);
    if (k != BAD_MISSING_LAM) put_complex(m, "Lam", p->lambda, k == BAD_LAM_SIZE ? n - 1 : n, 1);
    if (k == BAD_V_SHAPE) put_complex(m, "V", V, n, n - 1);
    else if (k == BAD_TYPE) {
        int32_t iv[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        size_t dims[2] = {n, n};
        matvar_t *v = Mat_VarCreate("V", MAT_C_INT32, MAT_T_INT32, 2, dims, iv, MAT_F_DONT_COPY_DATA);
        ck_assert_int_eq(Mat_VarWrite(m, v, MAT_COMPRESSION_NONE), 0);
        Mat_VarFree(v);
    } else if (k != BAD_MISSING_V) put_complex(m, "V", V, n, n);
    if (k == BAD_NAN) {
        memcpy(V, p->Vinv->data, n * n * sizeof *V);
        V[5] = CMPLX(NAN, 0);
        put_complex(m, "Vinv", V, n, n);
    } else if (k != BAD_MISSING_VINV) put_complex(m, "Vinv", p->Vinv->data, n, n);
    if (k == BAD_A_OTHER) {
        double a[16] = {0};
        for (size_t i = 0; i < n; i++) a[i + i * n] = -1;
        put(m, "A", n, n, a, NULL);
    }
    Mat_Close(m);
    free(V);
}

/* Malformed files: each refused (PTD_EFORMAT, PTD_EINVAL for a file of another matrix) with
 * one line naming what is wrong, nothing returned; truncated files at every eighth of their
 * length (v5 and v7.3) are refused, never crash; a header claiming more entries than the
 * file can hold is refused before anything is read. */
START_TEST(test_malformed)
{
    size_t n = 4;
    ptd_system *s = make("hippo-legs", n);
    ptd_ptd *p = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, NULL, NULL, 1e-2, 1, &p), PTD_OK);
    const char *want[NBAD] = {"no variable V", "no variable Lam", "no variable Vinv", "variable V must be a square",
                              "variable Lam has the wrong size", "variable V is not a double", "variable Vinv has a NaN",
                              "is not the matrix of this run", "no variable A, and no matrix"};
    for (int version = 5; version <= 73; version += 68)
        for (int k = 0; k < NBAD; k++) {
            char path[256];
            path_in(path, sizeof path, "bad.mat");
            write_bad(path, version, (bad_kind)k, p);
            ptd_ptd *q = (ptd_ptd *)1;
            int st = ptd_perturb_load_mat(path, k == BAD_NO_A ? NULL : s->A, NULL, NULL, &q);
            ck_assert_msg(st == (k == BAD_A_OTHER ? PTD_EINVAL : PTD_EFORMAT), "v%d case %d: status %d (%s)", version, k,
                          st, ptd_last_error());
            ck_assert_ptr_null(q);
            const char *msg = ptd_last_error();
            ck_assert_msg(strstr(msg, want[k]) && !strchr(msg, '\n'), "v%d case %d: '%s' lacks '%s'", version, k, msg,
                          want[k]);
        }
    /* truncated: a good file cut short */
    for (int version = 5; version <= 73; version += 68) {
        char path[256], cut[256];
        path_in(path, sizeof path, "whole.mat");
        path_in(cut, sizeof cut, "cut.mat");
        ck_assert_int_eq(ptd_perturb_save_mat(path, p, s->A, version), PTD_OK);
        FILE *f = fopen(path, "rb");
        static char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        ck_assert_uint_lt(len, sizeof buf);
        for (int e = 0; e < 8; e++) {
            f = fopen(cut, "wb");
            fwrite(buf, 1, len * (size_t)e / 8, f);
            fclose(f);
            ptd_ptd *q = (ptd_ptd *)1;
            int st = ptd_perturb_read(cut, s->A, NULL, NULL, &q);
            ck_assert_msg(st == PTD_EFORMAT, "v%d cut at %d/8: status %d (%s)", version, e, st, ptd_last_error());
            ck_assert_ptr_null(q);
            ck_assert(!strchr(ptd_last_error(), '\n'));
        }
    }
    /* a v5 header claiming V is 8000 x 8000 (1 GB, within PTD_ZOO_MAX_N) in a file of a few hundred bytes:
     * the dimensions sub-element of V (int32 tag 5, 8 bytes, then 4, 4) patched */
    {
        char path[256];
        path_in(path, sizeof path, "huge.mat");
        mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
        put_complex(m, "V", p->V->data, n, n);
        Mat_Close(m);
        FILE *f = fopen(path, "r+b");
        static unsigned char buf[4096];
        size_t len = fread(buf, 1, sizeof buf, f);
        const int32_t pat[4] = {5, 8, 4, 4};
        size_t at = 0;
        for (size_t i = 128; i + 16 <= len && !at; i += 8)
            if (memcmp(buf + i, pat, 16) == 0) at = i;
        ck_assert_uint_gt(at, 0);
        const int32_t big[2] = {8000, 8000};
        fseek(f, (long)(at + 8), SEEK_SET);
        fwrite(big, sizeof big, 1, f);
        fclose(f);
        ptd_ptd *q = (ptd_ptd *)1;
        ck_assert_int_eq(ptd_perturb_load_mat(path, NULL, NULL, NULL, &q), PTD_EFORMAT);
        ck_assert_ptr_null(q);
        ck_assert_msg(strstr(ptd_last_error(), "more than a file of"), "%s", ptd_last_error());
    }
    /* a variable name of 0x48000009 bytes (the name "reflected" with its length's top byte
     * set; fuzzing found that libmatio allocates it, 1.2 GB): refused before libmatio reads */
    {
        char path[256];
        path_in(path, sizeof path, "longname.mat");
        ck_assert_int_eq(ptd_perturb_save_mat(path, p, s->A, 5), PTD_OK);
        FILE *f = fopen(path, "r+b");
        static unsigned char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f), at = 0;
        const unsigned char tag[8] = {1, 0, 0, 0, 9, 0, 0, 0};
        for (size_t i = 128; i + 17 <= len && !at; i++)
            if (memcmp(buf + i, tag, 8) == 0 && memcmp(buf + i + 8, "reflected", 9) == 0) at = i;
        ck_assert_uint_gt(at, 0);
        fseek(f, (long)(at + 7), SEEK_SET);
        fputc(0x48, f);
        fclose(f);
        ptd_ptd *q = (ptd_ptd *)1;
        ck_assert_int_eq(ptd_perturb_load_mat(path, s->A, NULL, NULL, &q), PTD_EFORMAT);
        ck_assert_ptr_null(q);
        ck_assert_msg(strstr(ptd_last_error(), "bad name"), "%s", ptd_last_error());
    }
    /* not a MAT file at all, and a missing one */
    {
        char path[256];
        path_in(path, sizeof path, "text.mat");
        FILE *f = fopen(path, "w");
        fputs("Lam V Vinv\n", f);
        fclose(f);
        ptd_ptd *q = (ptd_ptd *)1;
        ck_assert_int_eq(ptd_perturb_load_mat(path, s->A, NULL, NULL, &q), PTD_EFORMAT);
        ck_assert_msg(strstr(ptd_last_error(), "not a MATLAB v5 or v7.3 file"), "%s", ptd_last_error());
        ck_assert_ptr_null(q);
        path_in(path, sizeof path, "none.mat");
        ck_assert_int_eq(ptd_perturb_load_mat(path, s->A, NULL, NULL, &q), PTD_EIO);
    }
    ptd_ptd_free(p);
    ptd_system_free(s);
}
END_TEST

int main(void)
{
    ptd_init();
    if (!mkdtemp(dir)) return 1;
    Suite *s = suite_create("matfile");
    TCase *tc = tcase_create("mat");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_authors_file);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
