/* perturb.c - perturb-then-diagonalize (PTD): choose a small E, diagonalize A + E, and
 * measure what was bought (kappa_2(V)) and what was paid (||E||, the backward error).
 * docs/mathematics.md section 9. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double ptdi_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ptd_ptd_free(ptd_ptd *p)
{
    if (!p) return;
    ptd_matrix_free(p->E);
    free(p->lambda);
    ptd_matrix_free(p->V);
    ptd_matrix_free(p->Vinv);
    ptd_matrix_free(p->Btilde);
    ptd_matrix_free(p->Ctilde);
    free(p);
}

/* C = op(A) op(B) for square n x n complex matrices, through BLAS zgemm. */
void ptdi_gemm(size_t n, char ta, char tb, const double complex *A, const double complex *B, double complex *C)
{
    static const double complex one = 1, zero = 0;
    CBLAS_TRANSPOSE_t a = ta == 'N' ? CblasNoTrans : CblasConjTrans, b = tb == 'N' ? CblasNoTrans : CblasConjTrans;
    cblas_zgemm(CblasColMajor, a, b, (int)n, (int)n, (int)n, &one, A, (int)n, B, (int)n, &zero, C, (int)n);
}

/* Eigenvalues and unit-column right eigenvectors of M (overwritten), LAPACK zgeevx with
 * permutation balancing only. */
int ptdi_eig_unit(size_t n, double complex *M, double complex *lambda, double complex *V)
{
    lapack_int ilo, ihi;
    double abnrm;
    double *scale = malloc(n * sizeof *scale);
    if (!scale) return ptd_error(PTD_ENOMEM, "out of memory");
    lapack_int info = LAPACKE_zgeevx(LAPACK_COL_MAJOR, 'P', 'N', 'V', 'N', (lapack_int)n, M, (lapack_int)n, lambda,
                                     NULL, 1, V, (lapack_int)n, &ilo, &ihi, scale, &abnrm, NULL, NULL);
    free(scale);
    return ptd_lapack_status("zgeevx", (int)info);
}

int ptdi_eig_real(size_t n, double *M, double complex *lambda, double complex *V)
{
    lapack_int ilo, ihi;
    double abnrm;
    double *scale = malloc(n * sizeof *scale), *wr = malloc(n * sizeof *wr), *wi = malloc(n * sizeof *wi),
           *vr = malloc(n * n * sizeof *vr);
    int st;
    if (!scale || !wr || !wi || !vr) st = ptd_error(PTD_ENOMEM, "out of memory");
    else {
        lapack_int info = LAPACKE_dgeevx(LAPACK_COL_MAJOR, 'P', 'N', 'V', 'N', (lapack_int)n, M, (lapack_int)n, wr, wi,
                                         NULL, 1, vr, (lapack_int)n, &ilo, &ihi, scale, &abnrm, NULL, NULL);
        st = ptd_lapack_status("dgeevx", (int)info);
    }
    /* dgeevx stores a pair's eigenvector as (re, im) in columns j, j+1, of unit 2-norm */
    for (size_t j = 0; !st && j < n; j++) {
        if (wi[j] == 0 || j + 1 == n) {
            lambda[j] = wr[j];
            for (size_t i = 0; i < n; i++) V[i + j * n] = vr[i + j * n];
            continue;
        }
        lambda[j] = CMPLX(wr[j], wi[j]);
        lambda[j + 1] = CMPLX(wr[j + 1], wi[j + 1]);
        for (size_t i = 0; i < n; i++) {
            V[i + j * n] = CMPLX(vr[i + j * n], vr[i + (j + 1) * n]);
            V[i + (j + 1) * n] = CMPLX(vr[i + j * n], -vr[i + (j + 1) * n]);
        }
        j++;
    }
    free(scale);
    free(wr);
    free(wi);
    free(vr);
    return st;
}

int ptdi_is_real(size_t n, const double complex *X)
{
    for (size_t k = 0; k < n * n; k++)
        if (cimag(X[k]) != 0) return 0;
    return 1;
}

/* Inverse of V (copied into Vinv) by LU; PTD_ERANGE if exactly singular. */
int ptdi_inverse(size_t n, const double complex *V, double complex *Vinv)
{
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (!ipiv) return ptd_error(PTD_ENOMEM, "out of memory");
    memcpy(Vinv, V, n * n * sizeof *Vinv);
    lapack_int info = LAPACKE_zgetrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, Vinv, (lapack_int)n, ipiv);
    int st;
    if (info > 0) st = ptd_error(PTD_ERANGE, "the eigenvector matrix is exactly singular");
    else if ((st = ptd_lapack_status("zgetrf", (int)info)) == PTD_OK) {
        info = LAPACKE_zgetri(LAPACK_COL_MAJOR, (lapack_int)n, Vinv, (lapack_int)n, ipiv);
        st = ptd_lapack_status("zgetri", (int)info);
    }
    free(ipiv);
    return st;
}

/* Singular values s (descending) and, when U and VT are not NULL, the full singular
 * vectors of the n x n X (copied). */
int ptdi_svd(size_t n, const double complex *X, double *s, double complex *U, double complex *VT)
{
    double complex *c = ptdi_lapack_alloc(n, n, sizeof *c);
    if (!c) return ptd_error(PTD_ENOMEM, "out of memory");
    memcpy(c, X, n * n * sizeof *c);
    char job = U ? 'A' : 'N';
    int info = ptdi_zgesvd(job, job, n, n, c, n, s, U, n, VT, n);
    free(c);
    return ptd_lapack_status("zgesvd", (int)info);
}

double ptdi_norm2_of(size_t n, const double complex *X)
{
    double *s = malloc(n * sizeof *s);
    double r = NAN;
    if (s && ptdi_svd(n, X, s, NULL, NULL) == PTD_OK) r = s[0];
    free(s);
    return r;
}

/* ||A - V diag(lambda) Vinv||_2 / ||A||_2 (norm_A = ||A||_2; 1 in its place if A = 0);
 * M and R: n x n scratch. */
static double backward_error(size_t n, const double complex *A, const double complex *V, const double complex *lambda,
                             const double complex *Vinv, double norm_A, double complex *M, double complex *R)
{
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) M[i + j * n] = V[i + j * n] * lambda[j];
    ptdi_gemm(n, 'N', 'N', M, Vinv, R);
    for (size_t k = 0; k < n * n; k++) R[k] = A[k] - R[k];
    return ptdi_norm2_of(n, R) / (norm_A > 0 ? norm_A : 1.0);
}

int ptd_perturb_backward_error(const ptd_matrix *A, const ptd_ptd *p, double *berr)
{
    ptd_clear_error();
    if (!A || !p || !berr || !p->V || !p->Vinv || !p->lambda || A->rows != p->n || A->cols != p->n)
        return ptd_error(PTD_EINVAL, "backward error: A must be square of the PTD system's order %zu", p ? p->n : 0);
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "backward error: A has NaN or infinite entries");
    size_t n = p->n;
    double na;
    int st = ptd_matrix_norm2(A, &na);
    if (st) return st;
    double complex *M = malloc(n * n * sizeof *M), *R = malloc(n * n * sizeof *R);
    if (!M || !R) st = ptd_error(PTD_ENOMEM, "out of memory (backward error, n = %zu)", n);
    else *berr = backward_error(n, A->data, p->V->data, p->lambda, p->Vinv->data, na, M, R);
    if (!st && isnan(*berr)) /* the SVD's own message, when it left one */
        st = ptd_last_error()[0] ? PTD_ELAPACK : ptd_error(PTD_ELAPACK, "backward error: the SVD failed");
    free(M);
    free(R);
    return st;
}

int ptdi_ptd_project(ptd_ptd *p, const ptd_matrix *B, const ptd_matrix *C)
{
    size_t n = p->n;
    if ((B && !p->Btilde && !(p->Btilde = ptd_matrix_alloc(n, 1))) || (C && !p->Ctilde && !(p->Ctilde = ptd_matrix_alloc(1, n))))
        return ptd_error(PTD_ENOMEM, "out of memory (n = %zu)", n);
    if (B)
        for (size_t i = 0; i < n; i++) {
            double complex s = 0;
            for (size_t k = 0; k < n; k++) s += PTD_AT(p->Vinv, i, k) * PTD_AT(B, k, 0);
            PTD_AT(p->Btilde, i, 0) = s;
        }
    if (C)
        for (size_t j = 0; j < n; j++) {
            double complex s = 0;
            for (size_t k = 0; k < n; k++) s += PTD_AT(C, 0, k) * PTD_AT(p->V, k, j);
            PTD_AT(p->Ctilde, 0, j) = s;
        }
    return PTD_OK;
}

int ptd_perturb_diagonalize(const ptd_matrix *A, const ptd_matrix *E, const ptd_matrix *B,
                            const ptd_matrix *C, ptd_ptd **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!A || A->rows != A->cols || !E || E->rows != A->rows || E->cols != A->cols)
        return ptd_error(PTD_EINVAL, "diagonalize: A and E must be square of one size");
    size_t n = A->rows;
    if (B && (B->rows != n || B->cols != 1)) return ptd_error(PTD_EINVAL, "diagonalize: B must be n x 1");
    if (C && (C->rows != 1 || C->cols != n)) return ptd_error(PTD_EINVAL, "diagonalize: C must be 1 x n");
    if (!ptd_matrix_is_finite(A) || !ptd_matrix_is_finite(E))
        return ptd_error(PTD_EINVAL, "diagonalize: NaN or infinite entries");
    ptd_ptd *p = calloc(1, sizeof *p);
    double complex *M = malloc(n * n * sizeof *M), *R = malloc(n * n * sizeof *R);
    int st = PTD_OK;
    if (p) {
        p->n = n;
        p->E = ptd_matrix_copy(E);
        p->lambda = malloc(n * sizeof *p->lambda);
        p->V = ptd_matrix_alloc(n, n);
        p->Vinv = ptd_matrix_alloc(n, n);
    }
    if (!p || !M || !R || !p->E || !p->lambda || !p->V || !p->Vinv) {
        st = ptd_error(PTD_ENOMEM, "out of memory (n = %zu)", n);
        goto done;
    }
    /* a real A + E in real arithmetic: its spectrum exactly closed under conjugation */
    p->real = ptdi_is_real(n, A->data) && ptdi_is_real(n, E->data);
    if (p->real) {
        double *Mr = (double *)R; /* n x n reals fit in the complex scratch */
        for (size_t k = 0; k < n * n; k++) Mr[k] = creal(A->data[k]) + creal(E->data[k]);
        if ((st = ptdi_eig_real(n, Mr, p->lambda, p->V->data))) goto done;
    } else {
        for (size_t k = 0; k < n * n; k++) M[k] = A->data[k] + E->data[k];
        if ((st = ptdi_eig_unit(n, M, p->lambda, p->V->data))) goto done;
    }
    if ((st = ptdi_inverse(n, p->V->data, p->Vinv->data))) goto done;
    if ((st = ptd_cond_kappa(p->V, &p->kappa_V))) goto done;
    if ((st = ptd_matrix_norm2(A, &p->norm_A))) goto done;
    p->norm_E = ptdi_norm2_of(n, E->data);
    p->rel_E = p->norm_A > 0 ? p->norm_E / p->norm_A : p->norm_E;
    /* the backward errors, measured: of the diagonalization of A + E (about ||E||/||A||),
     * then, after the reflection, of the system returned (the same when nothing moved) */
    p->backward_error_unreflected = backward_error(n, A->data, p->V->data, p->lambda, p->Vinv->data, p->norm_A, M, R);
    for (size_t i = 0; i < n; i++)
        if (creal(p->lambda[i]) > 0) {
            p->lambda[i] = CMPLX(-creal(p->lambda[i]), cimag(p->lambda[i]));
            p->reflected++;
        }
    p->backward_error = p->reflected ? backward_error(n, A->data, p->V->data, p->lambda, p->Vinv->data, p->norm_A, M, R)
                                     : p->backward_error_unreflected;
    st = ptdi_ptd_project(p, B, C);
done:
    free(M);
    free(R);
    if (st) {
        ptd_ptd_free(p);
        return st;
    }
    *out = p;
    return PTD_OK;
}

gsl_rng *ptdi_rng_seeded(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) gsl_rng_set(r, seed);
    return r;
}

int ptd_perturb_random(const ptd_matrix *A, const ptd_matrix *B, const ptd_matrix *C, double rel,
                       unsigned long seed, ptd_ptd **out)
{
    ptd_clear_error();
    *out = NULL;
    if (!(rel >= 0) || !isfinite(rel)) return ptd_error(PTD_EINVAL, "random perturbation: size must be >= 0 and finite");
    if (!A || A->rows != A->cols) return ptd_error(PTD_EINVAL, "random perturbation: a square matrix is needed");
    size_t n = A->rows;
    ptd_matrix *E = ptd_matrix_alloc(n, n);
    gsl_rng *r = ptdi_rng_seeded(seed);
    if (!E || !r) {
        ptd_matrix_free(E);
        gsl_rng_free(r);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < n * n; k++) {
        double re = gsl_ran_gaussian(r, 1.0), im = gsl_ran_gaussian(r, 1.0);
        E->data[k] = CMPLX(re, im);
    }
    gsl_rng_free(r);
    double na, ne = ptdi_norm2_of(n, E->data);
    int st = ptd_matrix_norm2(A, &na);
    if (st || !(ne > 0)) {
        ptd_matrix_free(E);
        return st ? st : ptd_error(PTD_ELAPACK, "random perturbation: zero Gaussian matrix");
    }
    for (size_t k = 0; k < n * n; k++) E->data[k] *= rel * na / ne;
    double t0 = ptdi_now();
    st = ptd_perturb_diagonalize(A, E, B, C, out);
    if (!st) (*out)->seconds = ptdi_now() - t0;
    ptd_matrix_free(E);
    return st;
}

/* --- save and load -------------------------------------------------------------------------- */

/* Version 2 added backward_error_unreflected and made backward_error that of the system
 * saved (reflected); in version 1, backward_error was the unreflected one. */
#define PTD_FORMAT_LINE "ptdkit-ptd 2"
#define PTD_FORMAT_LINE_V1 "ptdkit-ptd 1"

static int put_block(FILE *f, const char *name, const double complex *x, size_t count)
{
    fprintf(f, "%s %zu\n", name, count);
    for (size_t k = 0; k < count; k++) fprintf(f, "%.17g %.17g\n", creal(x[k]), cimag(x[k]));
    return PTD_OK;
}

int ptd_perturb_save(FILE *f, const ptd_ptd *p)
{
    ptd_clear_error();
    size_t n = p->n;
    fprintf(f, "%s\n", PTD_FORMAT_LINE);
    fprintf(f, "# perturb-then-diagonalize: A + E = V diag(lambda) V^{-1}, then lambda reflected (Re <= 0);\n"
               "# backward_error: of V diag(lambda) V^{-1} as saved; blocks of 're im' lines, column-major\n");
    fprintf(f, "n %zu\n", n);
    /* the returned system's backward error may be unknown (a version-1 file with reflected
     * eigenvalues): written "nan", the one value the loader takes for it besides numbers */
    char be[32];
    if (isnan(p->backward_error)) snprintf(be, sizeof be, "nan");
    else snprintf(be, sizeof be, "%.17g", p->backward_error);
    fprintf(f, "norm_A %.17g\nnorm_E %.17g\nrel_E %.17g\nbackward_error %s\nbackward_error_unreflected %.17g\n"
            "kappa_V %.17g\nreflected %zu\n",
            p->norm_A, p->norm_E, p->rel_E, be, p->backward_error_unreflected, p->kappa_V, p->reflected);
    put_block(f, "lambda", p->lambda, n);
    put_block(f, "V", p->V->data, n * n);
    put_block(f, "Vinv", p->Vinv->data, n * n);
    put_block(f, "E", p->E->data, n * n);
    if (p->Btilde) put_block(f, "Btilde", p->Btilde->data, n);
    if (p->Ctilde) put_block(f, "Ctilde", p->Ctilde->data, n);
    fprintf(f, "end\n");
    if (fflush(f) != 0 || ferror(f)) return ptd_error(PTD_EIO, "writing the PTD file: %s", strerror(errno));
    return PTD_OK;
}

typedef struct {
    FILE *f;
    const char *name;
    size_t line;
    char buf[512];
} reader;

/* The next line that is not a comment, without its newline; NULL at the end. */
static char *next_line(reader *r)
{
    while (fgets(r->buf, sizeof r->buf, r->f)) {
        r->line++;
        size_t len = strlen(r->buf);
        if (len == sizeof r->buf - 1 && r->buf[len - 1] != '\n') return NULL;
        while (len && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r')) r->buf[--len] = '\0';
        if (r->buf[0] == '#') continue;
        return r->buf;
    }
    return NULL;
}

static int parse_double(const char *s, double *v, char **end)
{
    errno = 0;
    *v = strtod(s, end);
    return *end != s && errno != ERANGE && isfinite(*v);
}

/* "KEY VALUE", a finite number; with unknown_ok, also "nan": a value the file does not know
 * (the returned system's backward error of a version-1 file with reflected eigenvalues,
 * saved again). */
static int read_keyed_as(reader *r, const char *key, double *v, int unknown_ok)
{
    char *l = next_line(r);
    size_t k = strlen(key);
    if (!l || strncmp(l, key, k) != 0 || l[k] != ' ')
        return ptd_error(PTD_EFORMAT, "%s:%zu: expected '%s VALUE'", r->name, r->line, key);
    if (unknown_ok && strcmp(l + k + 1, "nan") == 0) {
        *v = NAN;
        return PTD_OK;
    }
    char *end;
    if (!parse_double(l + k + 1, v, &end) || *end)
        return ptd_error(PTD_EFORMAT, "%s:%zu: '%s' needs a finite number%s", r->name, r->line, key,
                         unknown_ok ? " or nan (unknown)" : "");
    return PTD_OK;
}

static int read_keyed(reader *r, const char *key, double *v) { return read_keyed_as(r, key, v, 0); }

/* A block "KEY COUNT" (its header line `l` already read) and COUNT lines "re im" into *dst,
 * malloc'd and grown with the values that arrive (n = 8192 declares 1 GiB per block). */
static int read_block_at(reader *r, const char *l, const char *key, size_t count, double complex **dst)
{
    size_t k = strlen(key);
    char *end;
    if (!l || strncmp(l, key, k) != 0 || l[k] != ' ')
        return ptd_error(PTD_EFORMAT, "%s:%zu: expected the block '%s %zu'", r->name, r->line, key, count);
    errno = 0;
    unsigned long long c = strtoull(l + k + 1, &end, 10);
    if (*end || errno || c != count)
        return ptd_error(PTD_EFORMAT, "%s:%zu: block '%s' must hold %zu values", r->name, r->line, key, count);
    size_t cap = 0;
    for (size_t i = 0; i < count; i++) {
        const char *v = next_line(r);
        double re, im;
        if (!v) return ptd_error(PTD_EFORMAT, "%s: file ends inside block '%s' after %zu of %zu values", r->name, key, i, count);
        if (!parse_double(v, &re, &end) || !parse_double(end, &im, &end) || *end)
            return ptd_error(PTD_EFORMAT, "%s:%zu: expected two finite numbers 're im'", r->name, r->line);
        if (ptdi_grow((void **)dst, &cap, i + 1, count, sizeof **dst)) return ptd_error(PTD_ENOMEM, "out of memory");
        (*dst)[i] = CMPLX(re, im);
    }
    return PTD_OK;
}

/* The same for a block stored in a new rows x cols matrix. */
static int read_matrix_at(reader *r, const char *l, const char *key, size_t rows, size_t cols, ptd_matrix **into)
{
    if (!(*into = calloc(1, sizeof **into))) return ptd_error(PTD_ENOMEM, "out of memory");
    (*into)->rows = rows, (*into)->cols = cols;
    return read_block_at(r, l, key, rows * cols, &(*into)->data);
}

int ptd_perturb_load(FILE *f, const char *name, ptd_ptd **out)
{
    ptd_clear_error();
    *out = NULL;
    reader r = {f, name ? name : "(input)", 0, {0}};
    if (!fgets(r.buf, sizeof r.buf, f) || strncmp(r.buf, "ptdkit-ptd ", 11) != 0)
        return ptd_error(PTD_EFORMAT, "%s:1: not a ptdkit PTD file (no 'ptdkit-ptd VERSION' line)", r.name);
    r.line = 1;
    int v1 = strcmp(r.buf, PTD_FORMAT_LINE_V1 "\n") == 0;
    if (!v1 && strcmp(r.buf, PTD_FORMAT_LINE "\n") != 0)
        return ptd_error(PTD_EFORMAT, "%s:1: unsupported version '%.40s' (versions 1 and 2 are read)", r.name, r.buf + 11);
    char *l = next_line(&r), *end;
    if (!l || strncmp(l, "n ", 2) != 0) return ptd_error(PTD_EFORMAT, "%s:%zu: expected 'n N'", r.name, r.line);
    errno = 0;
    unsigned long long nn = strtoull(l + 2, &end, 10);
    if (*end || nn == 0 || nn > PTD_ZOO_MAX_N || errno)
        return ptd_error(PTD_EFORMAT, "%s:%zu: n must be 1..%d", r.name, r.line, PTD_ZOO_MAX_N);
    size_t n = (size_t)nn;
    ptd_ptd *p = calloc(1, sizeof *p);
    if (!p) return ptd_error(PTD_ENOMEM, "out of memory");
    p->n = n;
    double refl;
    int st = read_keyed(&r, "norm_A", &p->norm_A);
    if (!st) st = read_keyed(&r, "norm_E", &p->norm_E);
    if (!st) st = read_keyed(&r, "rel_E", &p->rel_E);
    if (!st)
        st = v1 ? read_keyed(&r, "backward_error", &p->backward_error_unreflected)
                : read_keyed_as(&r, "backward_error", &p->backward_error, 1);
    if (!st && !v1) st = read_keyed(&r, "backward_error_unreflected", &p->backward_error_unreflected);
    if (!st) st = read_keyed(&r, "kappa_V", &p->kappa_V);
    if (!st) st = read_keyed(&r, "reflected", &refl);
    if (!st) {
        if (refl < 0 || refl > (double)n || refl != floor(refl))
            st = ptd_error(PTD_EFORMAT, "%s:%zu: 'reflected' must be a count 0..n", r.name, r.line);
        else p->reflected = (size_t)refl;
    }
    /* version 1 kept only the unreflected backward error: it is the saved system's when
     * nothing was reflected, and unknown (NaN: recompute it against A) otherwise */
    if (!st && v1) p->backward_error = p->reflected ? NAN : p->backward_error_unreflected;
    if (!st) st = read_block_at(&r, next_line(&r), "lambda", n, &p->lambda);
    if (!st) st = read_matrix_at(&r, next_line(&r), "V", n, n, &p->V);
    if (!st) st = read_matrix_at(&r, next_line(&r), "Vinv", n, n, &p->Vinv);
    if (!st) st = read_matrix_at(&r, next_line(&r), "E", n, n, &p->E);
    /* optional blocks, then 'end' */
    l = st ? NULL : next_line(&r);
    if (!st && l && strncmp(l, "Btilde ", 7) == 0) {
        st = read_matrix_at(&r, l, "Btilde", n, 1, &p->Btilde);
        l = st ? NULL : next_line(&r);
    }
    if (!st && l && strncmp(l, "Ctilde ", 7) == 0) {
        st = read_matrix_at(&r, l, "Ctilde", 1, n, &p->Ctilde);
        l = st ? NULL : next_line(&r);
    }
    if (!st && (!l || strcmp(l, "end") != 0))
        st = ptd_error(PTD_EFORMAT, "%s:%zu: expected 'end'%s", r.name, r.line, l ? "" : " (file truncated)");
    if (!st && next_line(&r)) st = ptd_error(PTD_EFORMAT, "%s:%zu: text after 'end'", r.name, r.line);
    if (st) {
        ptd_ptd_free(p);
        return st;
    }
    *out = p;
    return PTD_OK;
}
