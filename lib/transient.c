/* transient.c - transient behaviour: ||e^{tA}||_2, ||A^k||_2, and the bounds on them.
 *
 * e^{tA} by scaling and squaring with the [13/13] Pade approximant (Higham 2005), not by the
 * Schur form with Parlett's recurrence: Parlett divides by differences of eigenvalues, so it
 * loses everything for close or repeated eigenvalues (a Jordan block, or the eigenvalues of a
 * perturbed Jordan block that are exactly the non-normal cases we care about), while
 * scaling and squaring is backward stable in practice with an error bound in terms of
 * ||A|| only.  Complex Pade needs the matrix products and one linear solve (zgemm, zgesv).
 */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_cblas.h>
#include <lapacke.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double pade13[14] = {64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
                                  1187353796428800.0,  129060195264000.0,   10559470521600.0,
                                  670442572800.0,      33522128640.0,       1323241920.0,
                                  40840800.0,          960960.0,            16380.0,
                                  182.0,               1.0};
static const double theta13 = 5.371920351148152;

static void mul(size_t n, const double complex *X, const double complex *Y, double complex *Z)
{
    const double complex one = 1, zero = 0;
    cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, &one, X, (int)n, Y, (int)n,
                &zero, Z, (int)n);
}

static double norm1(size_t n, const double complex *X)
{
    double m = 0;
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += cabs(X[i + j * n]);
        m = fmax(m, s);
    }
    return m;
}

/* Powers and exponentials can leave the double range long before the quantity asked for
 * (a norm) stops being interesting, and an inf or a NaN in a matrix poisons every product
 * and every LAPACK call after it.  So they are kept as 2^e M with the largest entry of M in
 * [1/2, 1): scaling by a power of two is exact (it commutes with every rounding, barring
 * subnormals), so M's products are the products that an unbounded exponent range would
 * give, and never overflow (their entries are at most n).  A norm is then ldexp(||M||, e):
 * +inf only when the value itself is beyond the double range. */
/* |e| beyond this is beyond any range a result can come back from: a product moves e by
 * at most a few thousand (or doubles it), so e saturates here without changing an answer. */
static const long long scale_cap = 1LL << 60;

static long long add_exponent(long long e, long long d)
{
    e += d;
    return e > scale_cap ? scale_cap : e < -scale_cap ? -scale_cap : e;
}

/* Scale M so that its largest entry (by real and imaginary parts) is in [1/2, 1); e takes
 * the power of two.  The zero matrix is left alone. */
static void normalize(size_t nn, double complex *M, long long *e)
{
    double m = 0;
    for (size_t k = 0; k < nn; k++) m = fmax(m, fmax(fabs(creal(M[k])), fabs(cimag(M[k]))));
    int x;
    (void)frexp(m, &x);
    if (m == 0 || x == 0) return;
    for (size_t k = 0; k < nn; k++) M[k] = CMPLX(ldexp(creal(M[k]), -x), ldexp(cimag(M[k]), -x));
    *e = add_exponent(*e, x);
}

/* 2^e, as ldexp takes it: clamped far outside the range where it changes anything */
static int scale_exponent(long long e) { return e > 1 << 20 ? 1 << 20 : e < -(1 << 20) ? -(1 << 20) : (int)e; }

/* E = 2^(*e2) e^{tA}, with E normalized (see normalize). */
static int expm_scaled(const ptd_matrix *A, double t, ptd_matrix *E, long long *e2)
{
    size_t n = A->rows, nn = n * n;
    *e2 = 0;
    double complex *M = malloc(7 * nn * sizeof *M);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (!M || !ipiv) {
        free(M);
        free(ipiv);
        return ptd_error(PTD_ENOMEM, "expm: out of memory (n = %zu)", n);
    }
    double complex *A1 = M, *A2 = M + nn, *A4 = M + 2 * nn, *A6 = M + 3 * nn, *U = M + 4 * nn, *V = M + 5 * nn,
                   *W = M + 6 * nn;
    double na = norm1(n, A->data);
    int s;
    if (isfinite(4 * fabs(t) * na)) {
        double nrm = 0; /* norm1(tA), summed as it is formed */
        for (size_t j = 0; j < n; j++) {
            double c = 0;
            for (size_t i = 0; i < n; i++) c += cabs(A1[i + j * n] = t * A->data[i + j * n]);
            nrm = fmax(nrm, c);
        }
        s = nrm > theta13 ? (int)ceil(log2(nrm / theta13)) : 0;
        double sc = ldexp(1.0, -s);
        for (size_t k = 0; k < nn; k++) A1[k] *= sc;
    } else if (isfinite(na)) { /* tA itself overflows: scale t first, s <= 2 * 1024 */
        s = (int)ceil(log2(fabs(t)) + log2(na) - log2(theta13));
        double sc = ldexp(t, -s);
        for (size_t k = 0; k < nn; k++) A1[k] = sc * A->data[k];
    } else {
        free(M);
        free(ipiv);
        return ptd_error(PTD_ERANGE, "expm: ||A||_1 is beyond the double range");
    }
    mul(n, A1, A1, A2);
    mul(n, A2, A2, A4);
    mul(n, A4, A2, A6);
    const double *b = pade13;
    /* U = A1 [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I] */
    for (size_t k = 0; k < nn; k++) W[k] = b[13] * A6[k] + b[11] * A4[k] + b[9] * A2[k];
    mul(n, A6, W, V);
    for (size_t k = 0; k < nn; k++) V[k] += b[7] * A6[k] + b[5] * A4[k] + b[3] * A2[k];
    for (size_t i = 0; i < n; i++) V[i + i * n] += b[1];
    mul(n, A1, V, U);
    /* V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I */
    for (size_t k = 0; k < nn; k++) W[k] = b[12] * A6[k] + b[10] * A4[k] + b[8] * A2[k];
    mul(n, A6, W, V);
    for (size_t k = 0; k < nn; k++) V[k] += b[6] * A6[k] + b[4] * A4[k] + b[2] * A2[k];
    for (size_t i = 0; i < n; i++) V[i + i * n] += b[0];
    /* (V - U) X = V + U */
    for (size_t k = 0; k < nn; k++) {
        W[k] = V[k] - U[k];
        E->data[k] = V[k] + U[k];
    }
    lapack_int info = LAPACKE_zgesv(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)n, W, (lapack_int)n, ipiv, E->data,
                                    (lapack_int)n);
    int st = ptd_lapack_status("zgesv", (int)info);
    if (!st && !ptd_matrix_is_finite(E)) st = ptd_error(PTD_ERANGE, "expm: the Pade approximant is not finite at t = %g", t);
    if (!st) normalize(nn, E->data, e2);
    /* (2^e M)^2 = 2^{2e} M^2.  With M normalized, M^2's largest entry is in [2^-1074, n] (or
     * M^2 = 0), so a squaring takes e to at least 2e - 1075 and at most 2e + log2(n) + 1:
     * beyond +-settled, e only grows in magnitude and the answer is +inf or 0 whatever
     * follows (for any n below 2^64), so the remaining squarings are skipped. */
    const long long settled = 4096;
    for (int k = 0; k < s && !st && *e2 <= settled && *e2 >= -settled; k++) {
        mul(n, E->data, E->data, W);
        memcpy(E->data, W, nn * sizeof *W);
        *e2 = add_exponent(*e2, *e2);
        normalize(nn, E->data, e2);
    }
    free(M);
    free(ipiv);
    return st;
}

int ptd_transient_expm(const ptd_matrix *A, double t, ptd_matrix *E)
{
    ptd_clear_error();
    if (!A || !E || A->rows != A->cols || A->rows == 0 || E->rows != A->rows || E->cols != A->cols)
        return ptd_error(PTD_EINVAL, "expm: square A and an output of the same size are needed");
    if (!isfinite(t) || !ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "expm: t and A must be finite");
    long long e2;
    int st = expm_scaled(A, t, E, &e2);
    if (st || e2 == 0) return st;
    int x = scale_exponent(e2);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        E->data[k] = CMPLX(ldexp(creal(E->data[k]), x), ldexp(cimag(E->data[k]), x));
    if (!ptd_matrix_is_finite(E)) return ptd_error(PTD_ERANGE, "expm: e^{tA} overflows at t = %g", t);
    return PTD_OK;
}

/* ||e^{tA}||_2 into *out, E the exponential's workspace */
static int norm_at(const ptd_matrix *A, double t, ptd_matrix *E, double *out)
{
    long long e2;
    double v;
    int st = expm_scaled(A, t, E, &e2);
    if (!st) st = ptd_matrix_norm2(E, &v);
    if (!st) *out = ldexp(v, scale_exponent(e2));
    return st;
}

int ptd_transient_norms(const ptd_matrix *A, const double *t, size_t nt, double *out)
{
    return ptd_transient_norms_progress(A, t, nt, out, NULL, NULL);
}

int ptd_transient_norms_progress(const ptd_matrix *A, const double *t, size_t nt, double *out,
                                 void (*progress)(void *ctx, size_t done, size_t total), void *ctx)
{
    ptd_clear_error();
    if (!A || A->rows != A->cols || A->rows == 0 || (nt && (!t || !out)))
        return ptd_error(PTD_EINVAL, "transient norms: a square matrix and arrays are needed");
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "transient norms: A must be finite");
    for (size_t k = 0; k < nt; k++)
        if (!isfinite(t[k])) return ptd_error(PTD_EINVAL, "transient norms: t[%zu] is not finite", k);
    /* one time to a thread, each exponential on one BLAS thread: the same bits whatever the
     * number of threads (a threaded LU or SVD changes the last digits with the count) */
    int *sts = malloc((nt ? nt : 1) * sizeof *sts);
    if (!sts) return ptd_error(PTD_ENOMEM, "transient norms: out of memory");
    int blas_old = ptd_blas_threads_single();
    int oom = 0;
    size_t done = 0;
#ifdef _OPENMP
#pragma omp parallel
#endif
    {
        ptd_matrix *E = ptd_matrix_alloc(A->rows, A->cols);
        if (!E) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            oom = 1;
        }
#ifdef _OPENMP
#pragma omp for schedule(dynamic)
#endif
        for (size_t k = 0; k < nt; k++) {
            sts[k] = PTD_OK;
            if (t[k] == 0) {
                out[k] = 1;
                continue;
            }
            if (!E) {
                sts[k] = PTD_ENOMEM;
                continue;
            }
            sts[k] = norm_at(A, t[k], E, &out[k]);
            size_t now;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
            now = ++done;
            int master = 1;
#ifdef _OPENMP
            master = omp_get_thread_num() == 0;
#endif
            if (progress && master && now < nt) progress(ctx, now, nt); /* the calling thread only */
        }
        ptd_matrix_free(E);
    }
    ptd_blas_threads_restore(blas_old);
    if (progress && nt) progress(ctx, nt, nt);
    int st = PTD_OK;
    size_t bad = 0;
    for (size_t k = 0; k < nt && !st; k++)
        if (sts[k]) st = sts[k], bad = k;
    free(sts);
    if (oom || st == PTD_ENOMEM) return ptd_error(PTD_ENOMEM, "transient norms: out of memory");
    if (st) {
        /* the message was a worker's (messages are per thread): the first failing time
         * again, here, for the caller's */
        ptd_matrix *E = ptd_matrix_alloc(A->rows, A->cols);
        if (!E) return ptd_error(PTD_ENOMEM, "transient norms: out of memory");
        double v;
        st = norm_at(A, t[bad], E, &v);
        ptd_matrix_free(E);
        if (!st) st = ptd_error(PTD_ERANGE, "transient norms: t = %g failed on a worker thread only", t[bad]);
    }
    return st;
}

int ptd_transient_power_norms(const ptd_matrix *A, size_t kmax, double *out)
{
    return ptd_transient_power_norms_progress(A, kmax, out, NULL, NULL);
}

int ptd_transient_power_norms_progress(const ptd_matrix *A, size_t kmax, double *out,
                                       void (*progress)(void *ctx, size_t done, size_t total), void *ctx)
{
    ptd_clear_error();
    if (!A || A->rows != A->cols || A->rows == 0 || !out)
        return ptd_error(PTD_EINVAL, "power norms: a square matrix and an array are needed");
    if (!ptd_matrix_is_finite(A)) return ptd_error(PTD_EINVAL, "power norms: A must be finite");
    size_t n = A->rows;
    ptd_matrix *P = ptd_matrix_alloc(n, n), *Q = ptd_matrix_alloc(n, n);
    if (!P || !Q) {
        ptd_matrix_free(P);
        ptd_matrix_free(Q);
        return ptd_error(PTD_ENOMEM, "power norms: out of memory");
    }
    /* A = 2^ea Ah, A^k = 2^e2 P: P <- Ah P, e2 += ea, both normalized */
    ptd_matrix *Ah = ptd_matrix_copy(A);
    if (!Ah) {
        ptd_matrix_free(P);
        ptd_matrix_free(Q);
        return ptd_error(PTD_ENOMEM, "power norms: out of memory");
    }
    long long ea = 0, e2 = 0;
    normalize(n * n, Ah->data, &ea);
    for (size_t i = 0; i < n; i++) PTD_AT(P, i, i) = 1;
    out[0] = 1;
    int st = PTD_OK;
    int blas_old = ptd_blas_threads_single(); /* the same bits whatever the thread count */
    for (size_t k = 1; k <= kmax && !st; k++) {
        mul(n, Ah->data, P->data, Q->data);
        ptd_matrix *tmp = P;
        P = Q;
        Q = tmp;
        e2 = add_exponent(e2, ea);
        normalize(n * n, P->data, &e2);
        double v;
        st = ptd_matrix_norm2(P, &v);
        if (!st) out[k] = ldexp(v, scale_exponent(e2));
        if (progress) progress(ctx, k, kmax);
    }
    ptd_blas_threads_restore(blas_old);
    ptd_matrix_free(Ah);
    ptd_matrix_free(P);
    ptd_matrix_free(Q);
    return st;
}

int ptd_transient_kreiss(const ptd_pspec_plan *p, const double *eps, size_t neps, int discrete, double *bound,
                         double *at_eps)
{
    ptd_clear_error();
    if (!p || !eps || !bound) return ptd_error(PTD_EINVAL, "Kreiss bound: NULL argument");
    double best = discrete ? 1.0 : 1.0, be = NAN; /* ||e^{0A}|| = ||A^0|| = 1 is always a bound */
    double fl = 4 * ptd_pspec_plan_floor(p);
    for (size_t k = 0; k < neps; k++) {
        if (!(eps[k] > fl) || !isfinite(eps[k])) continue;
        ptd_pspec_extreme r;
        int st = discrete ? ptd_pspec_radius(p, eps[k], NULL, &r) : ptd_pspec_abscissa(p, eps[k], NULL, &r);
        if (st) return st;
        double v = discrete ? (r.value - 1) / eps[k] : r.value / eps[k];
        if (v > best) {
            best = v;
            be = eps[k];
        }
    }
    *bound = best;
    if (at_eps) *at_eps = be;
    return PTD_OK;
}
