/* test_matrix.c - lib/matrix.c (dense matrices, norms, predicates) and lib/mmio.c
 * (Matrix Market).  Oracles: closed-form norms (diagonal, rank one, nilpotent), exact
 * hand-expanded matrices for every Matrix Market symmetry kind, bitwise round trips of
 * random doubles over the whole exponent range, and the exact line number every malformed
 * file must be rejected at. */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MM_DIR TOP_SRCDIR "/tests/data/mm/"

/* ------------------------------------------------------------------------------------ */
/* helpers                                                                                */
/* ------------------------------------------------------------------------------------ */

/* splitmix64: a small seeded generator, so the tests do not depend on GSL's. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static double uniform(uint64_t *state)
{
    return (double)(next_u64(state) >> 11) * 0x1p-52 - 1.0;
}

/* A finite double with random bits: every exponent (subnormals included) and both signs
 * are equally likely, which a uniform deviate would never produce. */
static double random_bits_double(uint64_t *state)
{
    for (;;) {
        uint64_t b = next_u64(state);
        double x;
        memcpy(&x, &b, sizeof x);
        if (isfinite(x)) return x;
    }
}

static ptd_matrix *from_rows(size_t rows, size_t cols, const double complex *rowmajor)
{
    ptd_matrix *m = ptd_matrix_alloc(rows, cols);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) PTD_AT(m, i, j) = rowmajor[i * cols + j];
    return m;
}

/* Exact equality, entry by entry, with the position in the message. */
static void assert_matrix_eq(const ptd_matrix *got, size_t rows, size_t cols,
                             const double complex *want_rowmajor)
{
    ck_assert_uint_eq(got->rows, rows);
    ck_assert_uint_eq(got->cols, cols);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double complex g = PTD_AT(got, i, j), w = want_rowmajor[i * cols + j];
            ck_assert_msg(g == w, "entry (%zu, %zu) = %g%+gi, want %g%+gi", i + 1, j + 1,
                          creal(g), cimag(g), creal(w), cimag(w));
        }
}

/* Read a file from tests/data/mm; name in messages is the bare file name. */
static int read_data(const char *file, ptd_matrix **out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", MM_DIR, file);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    int status = ptd_mm_read(f, file, out);
    fclose(f);
    return status;
}

static ptd_matrix *read_good(const char *file)
{
    ptd_matrix *m = NULL;
    int status = read_data(file, &m);
    ck_assert_msg(status == PTD_OK, "%s: status %d: %s", file, status, ptd_last_error());
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(ptd_last_error(), "");
    return m;
}

/* ------------------------------------------------------------------------------------ */
/* matrix: allocation, copies                                                             */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_alloc_zeroed)
{
    ptd_matrix *m = ptd_matrix_alloc(7, 5);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->rows, 7);
    ck_assert_uint_eq(m->cols, 5);
    for (size_t j = 0; j < 5; j++)
        for (size_t i = 0; i < 7; i++) {
            /* bitwise zero: +0, not -0 */
            double re = creal(PTD_AT(m, i, j)), im = cimag(PTD_AT(m, i, j));
            ck_assert(re == 0 && !signbit(re) && im == 0 && !signbit(im));
        }
    /* PTD_AT is column-major: (i, j) at data[i + j rows] */
    PTD_AT(m, 3, 2) = 1;
    ck_assert(m->data[3 + 2 * 7] == 1);
    ptd_matrix_free(m);
    ptd_matrix_free(NULL);
}
END_TEST

START_TEST(test_alloc_refuses)
{
    ck_assert_ptr_null(ptd_matrix_alloc(0, 3));
    ck_assert_ptr_null(ptd_matrix_alloc(3, 0));
    /* rows * cols * 16 overflows size_t: must be refused, not wrapped to a small block */
    ck_assert_ptr_null(ptd_matrix_alloc(SIZE_MAX / 8, 4));
    ck_assert_ptr_null(ptd_matrix_alloc((size_t)1 << 32, (size_t)1 << 32));
}
END_TEST

START_TEST(test_copy)
{
    uint64_t st = 11;
    ptd_matrix *a = ptd_matrix_alloc(4, 6);
    ck_assert_ptr_nonnull(a);
    for (size_t k = 0; k < 24; k++) a->data[k] = CMPLX(uniform(&st), uniform(&st));
    ptd_matrix *c = ptd_matrix_copy(a);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->rows, 4);
    ck_assert_uint_eq(c->cols, 6);
    ck_assert_ptr_ne(c->data, a->data);
    ck_assert_int_eq(memcmp(c->data, a->data, 24 * sizeof(double complex)), 0);
    /* a deep copy: changing it leaves the original alone */
    double complex before = PTD_AT(a, 1, 2);
    PTD_AT(c, 1, 2) += 1;
    ck_assert(PTD_AT(a, 1, 2) == before);
    ptd_matrix_free(c);
    ptd_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* matrix: norms                                                                          */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_norm2_diagonal)
{
    /* ||diag(d)||_2 = max |d_i| */
    const double complex d[] = {3, -7 * I, CMPLX(2, 2), -0.5, CMPLX(-4, 5)};
    const size_t n = 5;
    ptd_matrix *a = ptd_matrix_alloc(n, n);
    ck_assert_ptr_nonnull(a);
    double want = 0;
    for (size_t i = 0; i < n; i++) {
        PTD_AT(a, i, i) = d[i];
        if (cabs(d[i]) > want) want = cabs(d[i]);
    }
    double got = -1;
    ck_assert_int_eq(ptd_matrix_norm2(a, &got), PTD_OK);
    assert_close(got, want, 0, 4 * n * U_ROUND); /* sqrt(41) */
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_norm2_rank_one)
{
    /* ||u v^*||_2 = ||u|| ||v||; rectangular (4 x 3), complex */
    const double complex u[] = {1, 2 * I, -2, CMPLX(0, 0)}; /* ||u|| = 3 */
    const double complex v[] = {3, 4 * I, 0};               /* ||v|| = 5 */
    ptd_matrix *a = ptd_matrix_alloc(4, 3);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 3; j++) PTD_AT(a, i, j) = u[i] * conj(v[j]);
    double got = -1;
    ck_assert_int_eq(ptd_matrix_norm2(a, &got), PTD_OK);
    assert_close(got, 15.0, 0, 4 * 4 * U_ROUND);
    ptd_matrix_free(a);

    /* random u, v of order 40: the identity holds up to n u ||u|| ||v|| */
    uint64_t st = 7;
    const size_t n = 40;
    double complex uu[40], vv[40];
    double nu = 0, nv = 0;
    for (size_t i = 0; i < n; i++) {
        uu[i] = CMPLX(uniform(&st), uniform(&st));
        vv[i] = CMPLX(uniform(&st), uniform(&st));
        nu += creal(uu[i] * conj(uu[i]));
        nv += creal(vv[i] * conj(vv[i]));
    }
    a = ptd_matrix_alloc(n, n);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) PTD_AT(a, i, j) = uu[i] * conj(vv[j]);
    ck_assert_int_eq(ptd_matrix_norm2(a, &got), PTD_OK);
    assert_close(got, sqrt(nu) * sqrt(nv), 0, 10 * n * U_ROUND);
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_norm2_jordan)
{
    /* [[0 1] [0 0]]: all eigenvalues 0, yet ||A||_2 = 1 */
    const double complex j2[] = {0, 1, 0, 0};
    ptd_matrix *a = from_rows(2, 2, j2);
    double got = -1;
    ck_assert_int_eq(ptd_matrix_norm2(a, &got), PTD_OK);
    assert_close(got, 1.0, 0, 4 * U_ROUND);
    ptd_matrix_free(a);

    /* the n x n shift [[0 1 0 ...] ...] with weights w_i on the superdiagonal:
     * ||A||_2 = max |w_i| (A^*A is diagonal) */
    const size_t n = 6;
    a = ptd_matrix_alloc(n, n);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i + 1 < n; i++) PTD_AT(a, i, i + 1) = CMPLX(0.5 * (double)i, -1.0);
    ck_assert_int_eq(ptd_matrix_norm2(a, &got), PTD_OK);
    assert_close(got, cabs(CMPLX(2.0, -1.0)), 0, 4 * n * U_ROUND);
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_norm2_bounds_random)
{
    /* ||A||_2 <= ||A||_F <= sqrt(min(m, n)) ||A||_2 and ||A||_2 >= every |a_ij| */
    uint64_t st = 2024;
    ptd_matrix *a = ptd_matrix_alloc(9, 5);
    ck_assert_ptr_nonnull(a);
    double amax = 0;
    for (size_t k = 0; k < 45; k++) {
        a->data[k] = CMPLX(uniform(&st), uniform(&st));
        if (cabs(a->data[k]) > amax) amax = cabs(a->data[k]);
    }
    double n2 = -1, nf = ptd_matrix_norm_fro(a);
    ck_assert_int_eq(ptd_matrix_norm2(a, &n2), PTD_OK);
    const double tol = 20 * 9 * U_ROUND;
    ck_assert(n2 <= nf * (1 + tol));
    ck_assert(nf <= sqrt(5.0) * n2 * (1 + tol));
    ck_assert(n2 >= amax * (1 - tol));
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_norm_fro)
{
    /* sqrt(9 + 16 + 144) = 13 */
    const double complex v[] = {3, 4 * I, 0, 12};
    ptd_matrix *a = from_rows(2, 2, v);
    assert_close(ptd_matrix_norm_fro(a), 13.0, 0, 4 * 4 * U_ROUND);
    ptd_matrix_free(a);

    /* entries 1e200(1 + i): the sum of squares (8e400) overflows, the norm does not */
    a = ptd_matrix_alloc(2, 2);
    ck_assert_ptr_nonnull(a);
    for (size_t k = 0; k < 4; k++) a->data[k] = CMPLX(1e200, 1e200);
    double nf = ptd_matrix_norm_fro(a);
    ck_assert(isfinite(nf));
    assert_close(nf, sqrt(8.0) * 1e200, 0, 16 * U_ROUND);
    /* and tiny entries, whose squares underflow to 0 */
    for (size_t k = 0; k < 4; k++) a->data[k] = CMPLX(1e-200, -1e-200);
    assert_close(ptd_matrix_norm_fro(a), sqrt(8.0) * 1e-200, 0, 16 * U_ROUND);
    /* near the top of the range: sqrt(4) * DBL_MAX/4 = DBL_MAX/2 */
    for (size_t k = 0; k < 4; k++) a->data[k] = DBL_MAX / 4;
    assert_close(ptd_matrix_norm_fro(a), DBL_MAX / 2, 0, 16 * U_ROUND);
    ptd_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* matrix: predicates                                                                     */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_triangular)
{
    const double complex up[] = {1, 2, 3, 0, 4, 5, 0, 0, 6};
    const double complex lo[] = {1, 0, 0, 2, 3, 0, 4, 5, 6};
    const double complex di[] = {1, 0, 0, 0, 2, 0, 0, 0, 3};
    const double complex full[] = {1, 0, 0, 0, 2, 0, 0, 1e-300, 3};
    ptd_matrix *a = from_rows(3, 3, up);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 1);
    ck_assert_int_eq(ptd_matrix_is_lower(a), 0);
    /* -0 is exactly zero */
    PTD_AT(a, 2, 0) = CMPLX(-0.0, -0.0);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 1);
    /* a purely imaginary entry below the diagonal counts */
    PTD_AT(a, 2, 1) = CMPLX(0, 1e-300);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 0);
    ptd_matrix_free(a);

    a = from_rows(3, 3, lo);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 0);
    ck_assert_int_eq(ptd_matrix_is_lower(a), 1);
    ptd_matrix_free(a);

    a = from_rows(3, 3, di);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 1);
    ck_assert_int_eq(ptd_matrix_is_lower(a), 1);
    ptd_matrix_free(a);

    a = from_rows(3, 3, full);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 0);
    ck_assert_int_eq(ptd_matrix_is_lower(a), 1);
    ptd_matrix_free(a);

    /* rectangular: 2 x 4 upper trapezoid, 4 x 2 lower trapezoid */
    const double complex wide[] = {1, 2, 3, 4, 0, 5, 6, 7};
    a = from_rows(2, 4, wide);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 1);
    ck_assert_int_eq(ptd_matrix_is_lower(a), 0);
    ptd_matrix_free(a);
    const double complex tall[] = {1, 0, 2, 3, 4, 5, 6, 7};
    a = from_rows(4, 2, tall);
    ck_assert_int_eq(ptd_matrix_is_upper(a), 0);
    ck_assert_int_eq(ptd_matrix_is_lower(a), 1);
    PTD_AT(a, 0, 1) = 9;
    ck_assert_int_eq(ptd_matrix_is_lower(a), 0);
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_is_finite)
{
    ptd_matrix *a = ptd_matrix_alloc(3, 2);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(ptd_matrix_is_finite(a), 1);
    PTD_AT(a, 0, 0) = CMPLX(DBL_MAX, -DBL_MAX);
    PTD_AT(a, 1, 0) = CMPLX(DBL_TRUE_MIN, 0);
    ck_assert_int_eq(ptd_matrix_is_finite(a), 1);
    PTD_AT(a, 2, 1) = CMPLX(0, NAN); /* the last entry, imaginary part */
    ck_assert_int_eq(ptd_matrix_is_finite(a), 0);
    PTD_AT(a, 2, 1) = 0;
    PTD_AT(a, 1, 1) = CMPLX(-INFINITY, 0);
    ck_assert_int_eq(ptd_matrix_is_finite(a), 0);
    ptd_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* mmio: writer and round trip                                                            */
/* ------------------------------------------------------------------------------------ */

static void round_trip(const ptd_matrix *a)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ptd_mm_write(f, a), PTD_OK);
    rewind(f);
    ptd_matrix *b = NULL;
    int status = ptd_mm_read(f, "roundtrip", &b);
    ck_assert_msg(status == PTD_OK, "read back: %s", ptd_last_error());
    fclose(f);
    ck_assert_uint_eq(b->rows, a->rows);
    ck_assert_uint_eq(b->cols, a->cols);
    for (size_t k = 0; k < a->rows * a->cols; k++)
        ck_assert_msg(memcmp(&a->data[k], &b->data[k], sizeof a->data[k]) == 0,
                      "entry %zu: wrote %a%+ai, read %a%+ai", k, creal(a->data[k]),
                      cimag(a->data[k]), creal(b->data[k]), cimag(b->data[k]));
    ptd_matrix_free(b);
}

START_TEST(test_round_trip_random)
{
    static const size_t shape[][2] = {{1, 1}, {1, 7}, {7, 1}, {13, 9}, {32, 32}};
    uint64_t st = 1234567 + (uint64_t)_i;
    for (size_t s = 0; s < sizeof shape / sizeof shape[0]; s++) {
        ptd_matrix *a = ptd_matrix_alloc(shape[s][0], shape[s][1]);
        ck_assert_ptr_nonnull(a);
        for (size_t k = 0; k < a->rows * a->cols; k++)
            a->data[k] = CMPLX(random_bits_double(&st), random_bits_double(&st));
        round_trip(a);
        /* and ordinary-sized numbers, where 15 digits would not be enough */
        for (size_t k = 0; k < a->rows * a->cols; k++)
            a->data[k] = CMPLX(uniform(&st), uniform(&st) * 1e-3);
        round_trip(a);
        ptd_matrix_free(a);
    }
}
END_TEST

START_TEST(test_round_trip_special)
{
    const double v[] = {0.0,          -0.0,          DBL_TRUE_MIN, -DBL_TRUE_MIN,
                        DBL_MIN,      -DBL_MIN,      DBL_MIN / 3,  DBL_MAX,
                        -DBL_MAX,     1e308,         1e-308,       0.1,
                        1.0 / 3.0,    -2.0 / 3.0,    1 + DBL_EPSILON, 1 - DBL_EPSILON / 2,
                        9007199254740993.0, 5e-324,  123456789.0,  -1e-300};
    const size_t nv = sizeof v / sizeof v[0];
    ptd_matrix *a = ptd_matrix_alloc(nv, nv);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nv; j++) PTD_AT(a, i, j) = CMPLX(v[i], v[j]);
    round_trip(a);
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_write_format)
{
    const double complex v[] = {CMPLX(0.1, -0.0), 2, CMPLX(-3, 1e-300), CMPLX(0, 4)};
    ptd_matrix *a = from_rows(2, 2, v);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ptd_mm_write(f, a), PTD_OK);
    rewind(f);
    char text[512] = {0};
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    ck_assert_uint_gt(len, 0);
    /* column-major: (1,1) (2,1) (1,2) (2,2) */
    ck_assert_str_eq(text, "%%MatrixMarket matrix array complex general\n"
                           "2 2\n"
                           "0.10000000000000001 -0\n"
                           "-3 1e-300\n"
                           "2 0\n"
                           "0 4\n");
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_write_refuses_nonfinite)
{
    ptd_matrix *a = ptd_matrix_alloc(2, 2);
    ck_assert_ptr_nonnull(a);
    PTD_AT(a, 1, 0) = CMPLX(1, NAN);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ptd_mm_write(f, a), PTD_EINVAL);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "(2, 1)"));
    ck_assert_int_eq(ftell(f), 0); /* nothing half-written */
    PTD_AT(a, 1, 0) = INFINITY;
    ck_assert_int_eq(ptd_mm_write(f, a), PTD_EINVAL);
    ck_assert_int_eq(ftell(f), 0);
    fclose(f);
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_write_io_error)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f) return; /* no /dev/full on this system */
    ptd_matrix *a = ptd_matrix_alloc(3, 3);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(ptd_mm_write(f, a), PTD_EIO);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "write failed"));
    fclose(f);
    ptd_matrix_free(a);
}
END_TEST

START_TEST(test_bad_arguments)
{
    ptd_matrix *m = (ptd_matrix *)&m; /* must be reset to NULL */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ptd_mm_read(NULL, "x", &m), PTD_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(ptd_mm_read(f, "x", NULL), PTD_EINVAL);
    ck_assert_int_eq(ptd_mm_write(f, NULL), PTD_EINVAL);
    ck_assert_int_eq(ptd_mm_write(NULL, NULL), PTD_EINVAL);
    /* a NULL name still gives a message */
    m = (ptd_matrix *)&m;
    ck_assert_int_eq(ptd_mm_read(f, NULL, &m), PTD_EFORMAT);
    ck_assert_ptr_null(m);
    ck_assert_str_ne(ptd_last_error(), "");
    fclose(f);
}
END_TEST

START_TEST(test_read_io_error)
{
    /* reading a directory fails with EISDIR: an I/O error, not a format error */
    FILE *f = fopen(MM_DIR, "r");
    if (!f) return; /* fopen itself refused the directory */
    ptd_matrix *m = NULL;
    ck_assert_int_eq(ptd_mm_read(f, "dir", &m), PTD_EIO);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "dir"));
    fclose(f);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* mmio: reading each kind of file                                                        */
/* ------------------------------------------------------------------------------------ */

START_TEST(test_read_symmetric)
{
    ptd_matrix *m = read_good("sym.mtx");
    const double complex want[] = {2.5, -1, 4e-3, -1, 0, 7, 4e-3, 7, -0.5};
    assert_matrix_eq(m, 3, 3, want);
    ptd_matrix_free(m);

    m = read_good("sym-upper.mtx");
    const double complex want2[] = {0, 3, 3, 1};
    assert_matrix_eq(m, 2, 2, want2);
    ptd_matrix_free(m);

    m = read_good("array-sym.mtx");
    const double complex want3[] = {1, 2, 3, 2, 4, 5, 3, 5, 6};
    assert_matrix_eq(m, 3, 3, want3);
    ptd_matrix_free(m);
}
END_TEST

START_TEST(test_read_skew)
{
    /* file: (2,1) = 1.5, (3,2) = -2, (1,3) = 4 */
    ptd_matrix *m = read_good("skew.mtx");
    const double complex want[] = {0, -1.5, 4, 1.5, 0, 2, -4, -2, 0};
    assert_matrix_eq(m, 3, 3, want);
    /* A^T = -A entrywise */
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) ck_assert(PTD_AT(m, i, j) == -PTD_AT(m, j, i));
    ptd_matrix_free(m);

    m = read_good("array-skew.mtx");
    const double complex want2[] = {0, -1, -2, 1, 0, -3, 2, 3, 0};
    assert_matrix_eq(m, 3, 3, want2);
    ptd_matrix_free(m);
}
END_TEST

START_TEST(test_read_hermitian)
{
    ptd_matrix *m = read_good("herm.mtx");
    const double complex want[] = {2,               CMPLX(1, -2), CMPLX(-3, 0.5),
                                   CMPLX(1, 2),     0,            0,
                                   CMPLX(-3, -0.5), 0,            5};
    assert_matrix_eq(m, 3, 3, want);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) ck_assert(PTD_AT(m, i, j) == conj(PTD_AT(m, j, i)));
    ptd_matrix_free(m);

    m = read_good("array-herm.mtx");
    const double complex want2[] = {1, CMPLX(2, 3), CMPLX(2, -3), 4};
    assert_matrix_eq(m, 2, 2, want2);
    ptd_matrix_free(m);
}
END_TEST

START_TEST(test_read_pattern)
{
    ptd_matrix *m = read_good("pattern.mtx");
    const double complex want[] = {1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1};
    assert_matrix_eq(m, 3, 4, want);
    ptd_matrix_free(m);

    m = read_good("pattern-sym.mtx");
    const double complex want2[] = {0, 1, 0, 1, 0, 0, 0, 0, 1};
    assert_matrix_eq(m, 3, 3, want2);
    ptd_matrix_free(m);
}
END_TEST

START_TEST(test_read_general)
{
    ptd_matrix *m = read_good("array-real.mtx");
    const double complex want[] = {1, 3, 5, 2, 4, 6};
    assert_matrix_eq(m, 2, 3, want);
    ptd_matrix_free(m);

    m = read_good("coord-complex.mtx");
    const double complex want2[] = {CMPLX(1, -1), CMPLX(0, 3), 0, 0, 0, CMPLX(-0.25, 1e-300)};
    assert_matrix_eq(m, 2, 3, want2);
    ptd_matrix_free(m);

    m = read_good("integer.mtx");
    const double complex want3[] = {-7, 0, 12, 0};
    assert_matrix_eq(m, 2, 2, want3);
    ptd_matrix_free(m);
}
END_TEST

START_TEST(test_read_lenient_layout)
{
    /* CRLF line ends and no final newline */
    ptd_matrix *m = read_good("crlf.mtx");
    const double complex want[] = {1.5, -2.5};
    assert_matrix_eq(m, 2, 1, want);
    ptd_matrix_free(m);

    /* a 10000-character comment line is skipped, not split into phantom lines */
    m = read_good("long-comment.mtx");
    const double complex want2[] = {42};
    assert_matrix_eq(m, 1, 1, want2);
    ptd_matrix_free(m);
}
END_TEST

START_TEST(test_read_clears_error)
{
    ptd_matrix *m = NULL;
    ck_assert_int_eq(read_data("bad-value.mtx", &m), PTD_EFORMAT);
    ck_assert_str_ne(ptd_last_error(), "");
    m = read_good("sym.mtx"); /* asserts the message is empty again */
    ptd_matrix_free(m);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* mmio: malformed files                                                                  */
/* ------------------------------------------------------------------------------------ */

/* Each file and text its message must contain: "FILE:LINE: reason" wherever the fault
 * sits on a line. */
static const struct {
    const char *file;
    const char *want;
} bad_files[] = {
    {"bad-empty.mtx", "bad-empty.mtx: empty file"},
    {"bad-banner.mtx", "bad-banner.mtx:1: not a Matrix Market file (no %%MatrixMarket banner)"},
    {"bad-banner-trailing.mtx", "bad-banner-trailing.mtx:1: trailing text 'extra'"},
    {"bad-object.mtx", "bad-object.mtx:1: object 'vector' not supported"},
    {"bad-format.mtx", "bad-format.mtx:1: format 'sparse' unknown"},
    {"bad-field.mtx", "bad-field.mtx:1: field 'double' unknown"},
    {"bad-symmetry.mtx", "bad-symmetry.mtx:1: symmetry 'upper' unknown"},
    {"bad-array-pattern.mtx", "bad-array-pattern.mtx:1: an array file cannot have the pattern"},
    {"bad-herm-real.mtx", "bad-herm-real.mtx:1: hermitian symmetry needs the complex field"},
    {"bad-no-size.mtx", "bad-no-size.mtx: file ends before the size line"},
    {"bad-size-count.mtx", "bad-size-count.mtx:3: expected 3 numbers (rows columns entries), "
                           "found 2"},
    {"bad-size-zero.mtx", "bad-size-zero.mtx:2: row count 0 out of range 1..8192"},
    {"bad-size-huge.mtx", "bad-size-huge.mtx:3: row count 8193 out of range 1..8192"},
    {"bad-size-overflow.mtx", "bad-size-overflow.mtx:2: column count 99999999999999999999999 "
                              "out of range 1..8192"},
    {"bad-size-negative.mtx", "bad-size-negative.mtx:2: row count '-2' is not a non-negative"},
    {"bad-nnz.mtx", "bad-nnz.mtx:2: entry count 5 exceeds the 4 positions"},
    {"bad-nnz-overflow.mtx", "bad-nnz-overflow.mtx:2: entry count 184467440737095516160 too "
                             "large"},
    {"bad-nonsquare.mtx", "bad-nonsquare.mtx:2: a symmetric matrix must be square, not 2 x 3"},
    {"bad-few.mtx", "bad-few.mtx:7: expected 3 numbers, found 2"},
    {"bad-trailing.mtx", "bad-trailing.mtx:4: trailing text 'junk' after the 3 expected"},
    {"bad-array-few.mtx", "bad-array-few.mtx:4: expected 2 numbers, found 1"},
    {"bad-row-range.mtx", "bad-row-range.mtx:9: row index 12 out of range 1..10"},
    {"bad-col-zero.mtx", "bad-col-zero.mtx:3: column index 0 out of range 1..2"},
    {"bad-index-negative.mtx", "bad-index-negative.mtx:3: row index '-1' is not a positive"},
    {"bad-value.mtx", "bad-value.mtx:5: value 'abc' is not a number"},
    {"bad-value-glued.mtx", "bad-value-glued.mtx:3: value '1.5x' is not a number"},
    {"bad-hex.mtx", "bad-hex.mtx:3: value '0x1p3' is not a number"},
    {"bad-nan.mtx", "bad-nan.mtx:4: value 'nan' is not finite"},
    {"bad-inf.mtx", "bad-inf.mtx:3: value '-inf' is not finite"},
    {"bad-overflow.mtx", "bad-overflow.mtx:3: value '1e400' overflows"},
    {"bad-integer-float.mtx", "bad-integer-float.mtx:3: value '1.5' is not an integer"},
    {"bad-duplicate.mtx", "bad-duplicate.mtx:5: duplicate entry (1, 2)"},
    {"bad-sym-mirror.mtx", "bad-sym-mirror.mtx:5: duplicate entry (1, 2): it or its mirror "
                           "(2, 1)"},
    {"bad-skew-diag.mtx", "bad-skew-diag.mtx:4: diagonal entry (2, 2) of a skew-symmetric "
                          "matrix must be zero"},
    {"bad-herm-diag.mtx", "bad-herm-diag.mtx:5: diagonal entry (2, 2) of a hermitian matrix "
                          "must be real"},
    {"bad-truncated.mtx", "bad-truncated.mtx: file ends after 3 of 5 entries"},
    {"bad-extra.mtx", "bad-extra.mtx:6: data after the last entry"},
    {"bad-long-line.mtx", "bad-long-line.mtx:3: line longer than 4096 characters"},
    {"bad-nul.mtx", "bad-nul.mtx:4: NUL byte"},
};

START_TEST(test_read_bad)
{
    const char *file = bad_files[_i].file;
    ptd_matrix *m = (ptd_matrix *)&m; /* must be reset to NULL */
    int status = read_data(file, &m);
    const char *msg = ptd_last_error();
    ck_assert_msg(status == PTD_EFORMAT, "%s: status %d (%s), want PTD_EFORMAT; message '%s'",
                  file, status, ptd_strerror(status), msg);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(msg, bad_files[_i].want) != NULL, "%s: message '%s' lacks '%s'",
                  file, msg, bad_files[_i].want);
    ck_assert_ptr_null(strchr(msg, '\n'));
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* mmio: limits and mutated input                                                         */
/* ------------------------------------------------------------------------------------ */

static int read_string(const char *text, size_t len, ptd_matrix **out)
{
    FILE *f = fmemopen((void *)text, len, "r");
    ck_assert_ptr_nonnull(f);
    int status = ptd_mm_read(f, "mem", out);
    fclose(f);
    return status;
}

START_TEST(test_read_size_limits)
{
    /* PTD_ZOO_MAX_N itself is accepted, for rows and for columns */
    static const char rows_max[] = "%%MatrixMarket matrix coordinate real general\n"
                                   "8192 1 1\n8192 1 -2\n";
    ptd_matrix *m = NULL;
    ck_assert_int_eq(read_string(rows_max, strlen(rows_max), &m), PTD_OK);
    ck_assert_uint_eq(m->rows, 8192);
    ck_assert(PTD_AT(m, 8191, 0) == -2);
    ptd_matrix_free(m);
    static const char cols_max[] = "%%MatrixMarket matrix array real general\n1 8193\n";
    ck_assert_int_eq(read_string(cols_max, strlen(cols_max), &m), PTD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(ptd_last_error(), "mem:2: column count 8193 out of range"));
    /* a coordinate file with no entries is the zero matrix */
    static const char none[] = "%%MatrixMarket matrix coordinate complex general\n2 3 0\n";
    ck_assert_int_eq(read_string(none, strlen(none), &m), PTD_OK);
    ck_assert_uint_eq(m->cols, 3);
    ck_assert_double_eq(ptd_matrix_norm_fro(m), 0);
    ptd_matrix_free(m);
    /* skew-symmetric array of order 1 holds no entries at all */
    static const char skew1[] = "%%MatrixMarket matrix array real skew-symmetric\n1 1\n";
    ck_assert_int_eq(read_string(skew1, strlen(skew1), &m), PTD_OK);
    ck_assert(PTD_AT(m, 0, 0) == 0);
    ptd_matrix_free(m);
    /* subnormal and underflowing values are read (to the nearest double), not refused */
    static const char tiny[] = "%%MatrixMarket matrix array real general\n2 1\n"
                               "4.9406564584124654e-324\n1e-400\n";
    ck_assert_int_eq(read_string(tiny, strlen(tiny), &m), PTD_OK);
    ck_assert(creal(PTD_AT(m, 0, 0)) == DBL_TRUE_MIN);
    ck_assert(creal(PTD_AT(m, 1, 0)) == 0);
    ptd_matrix_free(m);
}
END_TEST

/* Array files declare n^2 values; their storage follows the values that arrive (the reader
 * once allocated the declared 1 GiB for an 8192 x 8192 header over one value).  The address
 * space is capped at 256 MB above the present, so allocating first fails as ENOMEM. */
START_TEST(test_read_array_declared_beyond_data)
{
    limit_address_space((size_t)256 << 20);
    static const char *const text[] = {
        "%%MatrixMarket matrix array real general\n8192 8192\n1\n",
        "%%MatrixMarket matrix array complex symmetric\n8192 8192\n1 2\n3 4\n",
        "%%MatrixMarket matrix array real skew-symmetric\n8192 8192\n",
    };
    static const char *const msg[] = {"file ends after 1 of 67108864 entries",
                                      "file ends after 2 of 33558528 entries",
                                      "file ends after 0 of 33550336 entries"};
    for (size_t k = 0; k < 3; k++) {
        ptd_matrix *m = (ptd_matrix *)1;
        ck_assert_int_eq(read_string(text[k], strlen(text[k]), &m), PTD_EFORMAT);
        ck_assert_msg(strstr(ptd_last_error(), msg[k]), "case %zu: '%s'", k, ptd_last_error());
        ck_assert_ptr_null(m);
    }
}
END_TEST

/* Mutate the good fixtures at random (bytes replaced by characters that matter to the
 * parser, lines cut, doubled or removed) and read them: the reader must answer PTD_OK
 * with a finite matrix or PTD_EFORMAT with a one-line message, never crash or leak
 * (this test is what valgrind and ASan exercise the error paths with). */
START_TEST(test_read_mutated)
{
    static const char *const files[] = {"sym.mtx", "skew.mtx", "herm.mtx", "pattern.mtx",
                                        "array-real.mtx", "array-skew.mtx", "array-herm.mtx",
                                        "coord-complex.mtx", "integer.mtx", "crlf.mtx"};
    static const char alphabet[] = "0123456789 .-+eE\n%x\t\r\0";
    uint64_t st = 99;
    size_t n_ok = 0, n_bad = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[1024], orig[4096], text[8192];
        snprintf(path, sizeof path, "%s%s", MM_DIR, files[f]);
        FILE *in = fopen(path, "rb");
        ck_assert_ptr_nonnull(in);
        size_t len = fread(orig, 1, sizeof orig, in);
        fclose(in);
        ck_assert_uint_gt(len, 0);
        for (int trial = 0; trial < 200; trial++) {
            memcpy(text, orig, len);
            size_t n = len;
            int edits = 1 + (int)(next_u64(&st) % 3);
            for (int e = 0; e < edits && n > 0; e++) {
                size_t at = next_u64(&st) % n;
                switch (next_u64(&st) % 4) {
                case 0: /* replace a byte */
                    text[at] = alphabet[next_u64(&st) % (sizeof alphabet - 1)];
                    break;
                case 1: /* cut the text short */
                    n = at;
                    break;
                case 2: { /* delete a span */
                    size_t span = 1 + next_u64(&st) % 8;
                    if (span > n - at) span = n - at;
                    memmove(text + at, text + at + span, n - at - span);
                    n -= span;
                    break;
                }
                default: { /* repeat a span (a doubled entry, digit or line) */
                    size_t span = 1 + next_u64(&st) % 16;
                    if (span > n - at) span = n - at;
                    if (n + span > sizeof text) break;
                    memmove(text + at + span, text + at, n - at);
                    n += span;
                    break;
                }
                }
            }
            ptd_matrix *m = (ptd_matrix *)&m;
            int status = n ? read_string(text, n, &m) : PTD_EFORMAT;
            if (!n) continue;
            ck_assert_msg(status == PTD_OK || status == PTD_EFORMAT,
                          "%s trial %d: status %d: %s", files[f], trial, status,
                          ptd_last_error());
            if (status == PTD_OK) {
                ck_assert_ptr_nonnull(m);
                ck_assert_int_eq(ptd_matrix_is_finite(m), 1);
                ptd_matrix_free(m);
                n_ok++;
            } else {
                ck_assert_ptr_null(m);
                const char *msg = ptd_last_error();
                ck_assert_msg(strncmp(msg, "mem:", 4) == 0, "message '%s'", msg);
                ck_assert_ptr_null(strchr(msg, '\n'));
                n_bad++;
            }
        }
    }
    /* the mutations are neither all harmless nor all fatal */
    ck_assert_uint_gt(n_ok, 50);
    ck_assert_uint_gt(n_bad, 500);
}
END_TEST

/* ------------------------------------------------------------------------------------ */

int main(void)
{
    Suite *s = suite_create("matrix");

    TCase *tc = tcase_create("matrix");
    tcase_add_test(tc, test_alloc_zeroed);
    tcase_add_test(tc, test_alloc_refuses);
    tcase_add_test(tc, test_copy);
    tcase_add_test(tc, test_norm2_diagonal);
    tcase_add_test(tc, test_norm2_rank_one);
    tcase_add_test(tc, test_norm2_jordan);
    tcase_add_test(tc, test_norm2_bounds_random);
    tcase_add_test(tc, test_norm_fro);
    tcase_add_test(tc, test_triangular);
    tcase_add_test(tc, test_is_finite);
    suite_add_tcase(s, tc);

    tc = tcase_create("mm-write");
    tcase_add_loop_test(tc, test_round_trip_random, 0, 4);
    tcase_add_test(tc, test_round_trip_special);
    tcase_add_test(tc, test_write_format);
    tcase_add_test(tc, test_write_refuses_nonfinite);
    tcase_add_test(tc, test_write_io_error);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("mm-read");
    tcase_add_test(tc, test_read_symmetric);
    tcase_add_test(tc, test_read_skew);
    tcase_add_test(tc, test_read_hermitian);
    tcase_add_test(tc, test_read_pattern);
    tcase_add_test(tc, test_read_general);
    tcase_add_test(tc, test_read_lenient_layout);
    tcase_add_test(tc, test_read_clears_error);
    tcase_add_test(tc, test_read_io_error);
    tcase_add_test(tc, test_read_size_limits);
    tcase_add_test(tc, test_read_array_declared_beyond_data);
    tcase_add_test(tc, test_read_mutated);
    tcase_add_loop_test(tc, test_read_bad, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
    suite_add_tcase(s, tc);

    return run_suite(s);
}
