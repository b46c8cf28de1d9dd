/* zoo.c - named matrices and systems: the HiPPO family (docs/mathematics.md section 6), their
 * normal parts, classic non-normal test matrices, Matrix Market files. */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int (*builder_fn)(ptd_system *s, unsigned long seed);

struct zoo_entry {
    const char *name;
    const char *describe;
    builder_fn build;
    unsigned even_n; /* 1: n must be even */
};

static double pn(size_t n) { return sqrt(2.0 * (double)n + 1.0); }

static int alloc_bp(ptd_system *s, size_t rank)
{
    s->B = ptd_matrix_alloc(s->n, 1);
    if (!s->B) return PTD_ENOMEM;
    if (rank) {
        s->P = ptd_matrix_alloc(s->n, rank);
        if (!s->P) return PTD_ENOMEM;
    }
    return PTD_OK;
}

/* --- HiPPO ------------------------------------------------------------------------------ */

static int build_legs(ptd_system *s, unsigned long seed)
{
    (void)seed;
    size_t N = s->n;
    if (alloc_bp(s, 1)) return PTD_ENOMEM;
    for (size_t n = 0; n < N; n++) {
        for (size_t k = 0; k < n; k++) PTD_AT(s->A, n, k) = -pn(n) * pn(k);
        PTD_AT(s->A, n, n) = -(double)(n + 1);
        PTD_AT(s->B, n, 0) = pn(n);
        PTD_AT(s->P, n, 0) = sqrt((double)n + 0.5);
    }
    return PTD_OK;
}

static int build_legt(ptd_system *s, unsigned long seed)
{
    (void)seed;
    size_t N = s->n;
    if (alloc_bp(s, 2)) return PTD_ENOMEM;
    for (size_t n = 0; n < N; n++) {
        for (size_t k = 0; k < N; k++) {
            double a = -0.5 * pn(n) * pn(k);
            if (n < k && (k - n) % 2 == 1) a = -a;
            PTD_AT(s->A, n, k) = a;
        }
        PTD_AT(s->B, n, 0) = pn(n) / 2;
        /* rank 2: p_n / sqrt2 on odd n (column 0) and on even n (column 1) */
        PTD_AT(s->P, n, n % 2 == 1 ? 0 : 1) = pn(n) / M_SQRT2;
    }
    return PTD_OK;
}

static int build_lmu(ptd_system *s, unsigned long seed)
{
    (void)seed;
    size_t N = s->n;
    if (alloc_bp(s, 0)) return PTD_ENOMEM;
    for (size_t n = 0; n < N; n++) {
        double r = 2.0 * (double)n + 1.0;
        for (size_t k = 0; k < N; k++) {
            double sgn;
            if (n < k) sgn = -1.0;
            else sgn = ((n - k + 1) % 2 == 0) ? 1.0 : -1.0; /* (-1)^(n-k+1) */
            PTD_AT(s->A, n, k) = r * sgn;
        }
        PTD_AT(s->B, n, 0) = (n % 2 == 0 ? 1.0 : -1.0) * r;
    }
    return PTD_OK;
}

static int build_lagt(ptd_system *s, unsigned long seed)
{
    (void)seed;
    size_t N = s->n;
    if (alloc_bp(s, 1)) return PTD_ENOMEM;
    for (size_t n = 0; n < N; n++) {
        for (size_t k = 0; k < n; k++) PTD_AT(s->A, n, k) = -1.0;
        PTD_AT(s->A, n, n) = -0.5;
        PTD_AT(s->B, n, 0) = 1.0;
        PTD_AT(s->P, n, 0) = sqrt(0.5);
    }
    return PTD_OK;
}

/* Fourier: 2x2 blocks on (2m, 2m+1), m >= 1, of frequency scale * pi * m. */
static int build_fourier(ptd_system *s, double scale, int decay)
{
    size_t N = s->n;
    if (alloc_bp(s, decay ? 0 : 1)) return PTD_ENOMEM;
    for (size_t n = 0; n < N; n++) PTD_AT(s->B, n, 0) = n == 0 ? 1.0 : (n % 2 == 0 ? M_SQRT2 : 0.0);
    for (size_t m = 1; 2 * m + 1 < N; m++) {
        PTD_AT(s->A, 2 * m, 2 * m + 1) = -scale * M_PI * (double)m;
        PTD_AT(s->A, 2 * m + 1, 2 * m) = scale * M_PI * (double)m;
    }
    if (decay) {
        for (size_t n = 0; n < N; n++) PTD_AT(s->A, n, n) -= 0.5;
    } else {
        for (size_t n = 0; n < N; n++) {
            double bn = creal(PTD_AT(s->B, n, 0));
            PTD_AT(s->P, n, 0) = bn;
            for (size_t k = 0; k < N; k++) PTD_AT(s->A, n, k) -= bn * creal(PTD_AT(s->B, k, 0));
        }
    }
    return PTD_OK;
}

static int build_fout(ptd_system *s, unsigned long seed)
{
    (void)seed;
    return build_fourier(s, 1.0, 0);
}

static int build_foud(ptd_system *s, unsigned long seed)
{
    (void)seed;
    return build_fourier(s, 2.0, 1);
}

/* The normal part A + P P^T of a measure with a rank correction; B is kept, P dropped. */
static int make_normal(ptd_system *s, builder_fn base, unsigned long seed)
{
    int st = base(s, seed);
    if (st) return st;
    const ptd_matrix *P = s->P;
    for (size_t j = 0; j < s->n; j++)
        for (size_t i = 0; i < s->n; i++) {
            double acc = 0;
            for (size_t r = 0; r < P->cols; r++) acc += creal(PTD_AT(P, i, r)) * creal(PTD_AT(P, j, r));
            PTD_AT(s->A, i, j) += acc;
        }
    ptd_matrix_free(s->P);
    s->P = NULL;
    return PTD_OK;
}

static int build_legs_normal(ptd_system *s, unsigned long seed) { return make_normal(s, build_legs, seed); }
static int build_legt_normal(ptd_system *s, unsigned long seed) { return make_normal(s, build_legt, seed); }
static int build_lagt_normal(ptd_system *s, unsigned long seed) { return make_normal(s, build_lagt, seed); }
static int build_fout_normal(ptd_system *s, unsigned long seed) { return make_normal(s, build_fout, seed); }

/* --- classic non-normal test matrices -------------------------------------------------- */

static int build_grcar(ptd_system *s, unsigned long seed)
{
    (void)seed;
    for (size_t i = 0; i < s->n; i++) {
        if (i > 0) PTD_AT(s->A, i, i - 1) = -1.0;
        for (size_t k = i; k <= i + 3 && k < s->n; k++) PTD_AT(s->A, i, k) = 1.0;
    }
    return PTD_OK;
}

static int build_kahan(ptd_system *s, unsigned long seed)
{
    (void)seed;
    const double theta = 1.2, sn = sin(theta), cs = cos(theta);
    for (size_t i = 0; i < s->n; i++) {
        double d = pow(sn, (double)i);
        PTD_AT(s->A, i, i) = d;
        for (size_t k = i + 1; k < s->n; k++) PTD_AT(s->A, i, k) = -cs * d;
    }
    return PTD_OK;
}

static int build_demmel(ptd_system *s, unsigned long seed)
{
    (void)seed;
    size_t N = s->n;
    double beta = N > 1 ? pow(10.0, 4.0 / (double)(N - 1)) : 1.0;
    for (size_t i = 0; i < N; i++)
        for (size_t k = i; k < N; k++) PTD_AT(s->A, i, k) = -pow(beta, (double)(k - i));
    return PTD_OK;
}

static int build_frank(ptd_system *s, unsigned long seed)
{
    (void)seed;
    size_t N = s->n;
    for (size_t i = 0; i < N; i++)
        for (size_t k = (i > 0 ? i - 1 : 0); k < N; k++) /* 1-based: n + 1 - max(i, k) */
            PTD_AT(s->A, i, k) = (double)(N - (i > k ? i : k));
    return PTD_OK;
}

static int build_jordan(ptd_system *s, unsigned long seed)
{
    (void)seed;
    for (size_t i = 0; i + 1 < s->n; i++) PTD_AT(s->A, i, i + 1) = 1.0;
    return PTD_OK;
}

static gsl_rng *seeded_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) gsl_rng_set(r, seed);
    return r;
}

static int build_ginibre(ptd_system *s, unsigned long seed)
{
    gsl_rng *r = seeded_rng(seed);
    if (!r) return PTD_ENOMEM;
    /* E|a_ij|^2 = 1/n: real and imaginary parts N(0, 1/(2n)) */
    double sd = sqrt(0.5 / (double)s->n);
    for (size_t j = 0; j < s->n; j++)
        for (size_t i = 0; i < s->n; i++) {
            double re = gsl_ran_gaussian(r, sd);
            double im = gsl_ran_gaussian(r, sd);
            PTD_AT(s->A, i, j) = CMPLX(re, im);
        }
    gsl_rng_free(r);
    return PTD_OK;
}

static int build_randtri(ptd_system *s, unsigned long seed)
{
    gsl_rng *r = seeded_rng(seed);
    if (!r) return PTD_ENOMEM;
    double sd = 1.0 / sqrt((double)s->n);
    for (size_t j = 0; j < s->n; j++)
        for (size_t i = 0; i <= j; i++) PTD_AT(s->A, i, j) = gsl_ran_gaussian(r, sd);
    gsl_rng_free(r);
    return PTD_OK;
}

static const struct zoo_entry zoo[] = {
    {"hippo-legs", "HiPPO-LegS: A_nk = -p_n p_k (n>k), A_nn = -(n+1), 0 above; B_n = p_n = sqrt(2n+1)", build_legs, 0},
    {"hippo-legs-normal", "normal part of LegS: A + P P^T with P_n = sqrt(n+1/2), = -I/2 + skew", build_legs_normal, 0},
    {"hippo-legt", "HiPPO-LegT: A_nk = -p_n p_k/2 (n>=k), -(-1)^(n-k) p_n p_k/2 (n<k); B_n = p_n/2", build_legt, 0},
    {"hippo-legt-normal", "normal part of LegT: A + P P^T, P of rank 2 (p_n/sqrt2 on odd / even n)", build_legt_normal, 0},
    {"hippo-lmu", "HiPPO-LMU: A_nk = (2n+1) (-1 if n<k, else (-1)^(n-k+1)); B_n = (-1)^n (2n+1)", build_lmu, 0},
    {"hippo-lagt", "HiPPO-LagT: A = I/2 - tril(ones): -1/2 on the diagonal, -1 below; B_n = 1", build_lagt, 0},
    {"hippo-lagt-normal", "normal part of LagT: A + P P^T with P_n = sqrt(1/2), skew-symmetric", build_lagt_normal, 0},
    {"hippo-fout", "HiPPO-FouT: A = S - b b^T, 2x2 blocks -/+ pi m on (2m, 2m+1), b = (1,0,sqrt2,0,...); n even", build_fout, 1},
    {"hippo-fout-normal", "normal part of FouT: the skew-symmetric S; n even", build_fout_normal, 1},
    {"hippo-foud", "HiPPO-FouD: blocks -/+ 2 pi m on (2m, 2m+1) minus I/2 (normal); B = b; n even", build_foud, 1},
    {"grcar", "Grcar: 1 on the diagonal and three superdiagonals, -1 on the subdiagonal", build_grcar, 0},
    {"kahan", "Kahan: diag(s^i) (I - c triu(ones, 1)), s = sin 1.2, c = cos 1.2 (upper triangular)", build_kahan, 0},
    {"demmel", "Demmel: upper triangular Toeplitz, A_ik = -beta^(k-i), beta = 10^(4/(n-1))", build_demmel, 0},
    {"frank", "Frank: A_ik = n + 1 - max(i, k) for k >= i - 1 (1-based), upper Hessenberg", build_frank, 0},
    {"jordan", "Jordan block: eigenvalue 0, ones on the superdiagonal", build_jordan, 0},
    {"ginibre", "complex Gaussian entries of variance 1/n (seeded): spectrum fills the unit disc", build_ginibre, 0},
    {"randtri", "random upper triangular: real Gaussian entries of variance 1/n on and above the diagonal (seeded)", build_randtri, 0},
};
#define ZOO_COUNT (sizeof zoo / sizeof zoo[0])

size_t ptd_zoo_count(void) { return ZOO_COUNT; }
const char *ptd_zoo_name(size_t i) { return i < ZOO_COUNT ? zoo[i].name : NULL; }
const char *ptd_zoo_describe(size_t i) { return i < ZOO_COUNT ? zoo[i].describe : NULL; }

static const struct zoo_entry *lookup(const char *name)
{
    for (size_t i = 0; i < ZOO_COUNT; i++)
        if (strcmp(zoo[i].name, name) == 0) return &zoo[i];
    return NULL;
}

int ptd_zoo_valid_n(const char *name, size_t n)
{
    const struct zoo_entry *e = lookup(name);
    if (!e || n == 0 || n > PTD_ZOO_MAX_N) return 0;
    return !e->even_n || n % 2 == 0;
}

void ptd_system_free(ptd_system *s)
{
    if (!s) return;
    ptd_matrix_free(s->A);
    ptd_matrix_free(s->B);
    ptd_matrix_free(s->P);
    free(s);
}

static int from_file(const char *spec, int rect, ptd_system **out)
{
    const char *path = strcmp(spec, "-") == 0 ? NULL : spec + 5;
    if (path && !*path) return ptd_error(PTD_EINVAL, "file: needs a path, e.g. file:a.mtx");
    FILE *f = path ? fopen(path, "r") : stdin;
    if (!f) return ptd_error(PTD_EIO, "%s: cannot open: %s", path, strerror(errno));
    ptd_matrix *A = NULL;
    int st = ptd_mm_read(f, path ? path : "<stdin>", &A);
    if (path) fclose(f);
    if (st) return st;
    if (A->rows != A->cols && !(rect && A->rows > A->cols)) {
        size_t r = A->rows, c = A->cols;
        ptd_matrix_free(A);
        return ptd_error(PTD_EFORMAT, "%s: matrix is %zu x %zu, a square matrix is needed%s",
                         path ? path : "<stdin>", r, c, rect ? " (or one with more rows than columns)" : "");
    }
    ptd_system *s = calloc(1, sizeof *s);
    if (!s) {
        ptd_matrix_free(A);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    snprintf(s->name, sizeof s->name, "%s", spec);
    s->n = A->cols;
    s->A = A;
    *out = s;
    return PTD_OK;
}

static int make(const char *spec, size_t n, unsigned long seed, int rect, ptd_system **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!spec) return ptd_error(PTD_EINVAL, "no matrix name");
    if (strncmp(spec, "file:", 5) == 0 || strcmp(spec, "-") == 0) return from_file(spec, rect, out);
    const struct zoo_entry *e = lookup(spec);
    if (!e) return ptd_error(PTD_ENOTFOUND, "unknown matrix '%s'", spec);
    if (n == 0 || n > PTD_ZOO_MAX_N)
        return ptd_error(PTD_EINVAL, "n = %zu is out of range 1..%d", n, PTD_ZOO_MAX_N);
    if (e->even_n && n % 2)
        return ptd_error(PTD_EINVAL, "%s needs an even n (got %zu)", spec, n);
    ptd_system *s = calloc(1, sizeof *s);
    if (!s) return ptd_error(PTD_ENOMEM, "out of memory");
    snprintf(s->name, sizeof s->name, "%s", spec);
    s->n = n;
    s->A = ptd_matrix_alloc(n, n);
    int st = s->A ? e->build(s, seed) : PTD_ENOMEM;
    if (st) {
        ptd_system_free(s);
        return st == PTD_ENOMEM ? ptd_error(PTD_ENOMEM, "out of memory building %s, n = %zu", spec, n) : st;
    }
    *out = s;
    return PTD_OK;
}

int ptd_zoo_make(const char *spec, size_t n, unsigned long seed, ptd_system **out) { return make(spec, n, seed, 0, out); }

int ptd_zoo_make_rect(const char *spec, size_t n, unsigned long seed, ptd_system **out)
{
    return make(spec, n, seed, 1, out);
}
