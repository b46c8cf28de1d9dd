/* condmp.c - extended precision (MPFR) conditioning of triangular matrices.
 *
 * For an upper triangular T (a lower triangular A is reversed first, T = J A J, which leaves
 * every condition number unchanged):
 *
 *   right eigenvectors  x_k[k] = 1, x_k[i] = 0 (i > k),
 *                       x_k[i] = -(sum_{j=i+1..k} T_ij x_k[j]) / (T_ii - T_kk)   (i < k),
 *                       then scaled to unit 2-norm: V = [x_0 .. x_{n-1}], upper triangular;
 *   left eigenvectors   y_i[i] = 1, y_i[j] = 0 (j < i),
 *                       y_i[j] = (sum_{l=i..j-1} y_i[l] T_lj) / (T_ii - T_jj)      (j > i).
 *
 * W = V^{-1} is taken from the left eigenvectors instead of inverting the computed V: row i
 * of W is y_i^T scaled so that y_i^T x_i = 1.  Since y_i^T x_k = 0 for i != k (distinct
 * eigenvalues) and y_i^T x̂_i = y_i[i] x̂_i[i] = 1 for the unscaled x̂_i (the triangular
 * shapes meet only at index i), row i of W is ||x̂_i|| y_i^T.  It is a substitution of the
 * same cost as inverting V, but it reads T (exact) rather than the rounded V.
 *
 *   eig_cond[i] = ||x_i|| ||y_i|| / |y_i^* x_i| = ||row i of W||_2   (x_i unit, w_i x_i = 1),
 *   kappa_2(V)  = ||V||_2 ||W||_2.
 *
 * Repeated eigenvalues.  Let lambda sit at the diagonal positions k_1 < ... < k_m (exactly
 * equal doubles: the "class" of lambda).  The substitution for x_k, k = k_p, meets the pivot
 * T_ii - lambda = 0 at every i = k_q < k.  Take x_k[i] = 0 there (a free choice) and call the
 * row consistent when its sum s_i = sum_{j>i} T_ij x_k[j] is 0.  Then lambda is defective
 * (fewer than m eigenvectors) if and only if some row is inconsistent, whatever the free
 * choices: if every row is consistent the m vectors x_{k_p} are eigenvectors, independent by
 * their last nonzero entries; if T is diagonalizable, so is every principal block T[i..k]
 * (the restriction of T to span(e_0..e_k), an invariant subspace, taken modulo the invariant
 * span(e_0..e_{i-1})), and for i = k_q, T[i..k] - lambda = [0 r; 0 S - lambda] has m' + 1
 * eigenvectors (m' the multiplicity of lambda in S) only if r y = 0 for every y in
 * null(S - lambda), which holds the partial vector x_k[i+1..k].  Only the rows k_1 <= i < k
 * have zero pivots, so only T[k_1..k_m] is read.  The test must be exact, not rounded: it is
 * done once, in integers (GMP), before any MPFR run.  Every double is M 2^e with an integer
 * |M| < 2^53, so 2^-emin T (emin the least e) has (Gaussian) integer entries, and the
 * substitution is made fraction-free: instead of dividing by d = T_ii - lambda, the entries
 * found so far are multiplied by d (and common factors of 2 are shifted out).
 *
 * A defective lambda has eig_cond = inf (a perturbation of size eps moves it by about
 * eps^(1/b), b the size of its largest Jordan block), and kappa_2(V) = inf: no V exists.
 * For a repeated lambda that is not defective (semisimple) the eigenvectors are not unique;
 * the columns of V for its class are made an orthonormal basis of its eigenspace (Gram-Schmidt,
 * twice, in the order k_1, ..., k_m, which keeps V upper triangular).  Every choice of
 * orthonormal bases gives the same kappa_2(V) (the choices differ by a block-diagonal unitary
 * factor), so kappa_2(V) is again unique.  The rows of W for the class are W_c = H^{-1} Y_c,
 * Y_c the unscaled left vectors y_{k_p}^T and H = Y_c Q_c (Q_c the orthonormal columns):
 * then W_c Q_c = I, and H is upper triangular with H_pp = Q_c[k_p, p] real, so W stays upper
 * triangular.  The eigenvalue condition number of a semisimple lambda is the norm of its
 * spectral projector, ||Q_c W_c||_2 = ||W_c||_2 (Lanczos on the rows of the class); it is the
 * 1/|y^* x| of a simple one, and every eigenvector matrix has kappa_2 >= the largest of them.
 *
 * The two 2-norms: Lanczos with full reorthogonalisation (classical Gram-Schmidt, twice) on
 * the Hermitian U^* U (U = V or W; two triangular products per step), in MPFR at 128 bits on
 * copies of U rounded to 128 bits.  Rounding U entrywise by 2^-128 moves ||U||_2 by at most
 * sqrt(n) 2^-128 relatively (||dU||_2 <= ||dU||_F <= 2^-128 ||U||_F <= 2^-128 sqrt(n) ||U||_2),
 * so the working precision is needed only where it matters, in the substitutions.  After every
 * step the largest eigenvalue theta of the Lanczos tridiagonal T_k (long double, bisection on
 * Sturm counts) and its residual r = beta_k |s_k| (s_k the last component of its eigenvector,
 * inverse iteration) are computed; some eigenvalue of U^* U lies within r of theta, and
 * theta <= lambda_max.  Stop when r <= LANCZOS_TOL theta, or when the Krylov space is
 * exhausted (k = n, or beta_k = 0: T_k then holds eigenvalues of U^* U exactly).  The sharper
 * gap bound r^2 / (theta_1 - theta_2) is not used: theta_2 only bounds lambda_2 from below,
 * so it would not be a bound, and it saved only one or two steps (LegS: 6-8 steps for V,
 * 3-5 for V^{-1} at every n from 16 to 256; Kahan and randtri n = 100: 6-11).
 *
 * Precision: bits = 0 starts with a pilot run at 128 bits, then uses 96 + 1.1 log2(K) bits,
 * K the largest of kappa and the eig_cond, until that no longer grows; the result is then
 * confirmed by a run at bits + max(64, bits/2), raising the precision until the two runs
 * agree to `digits`.  The reported values are those of the lower ("working") run of the last
 * agreeing pair; `digits` is the agreement actually measured (at most 15).
 */
#include "config.h"
#include "internal.h"

#include <float.h>
#include <gmp.h>
#include <limits.h>
#include <math.h>
#include <mpfr.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LANCZOS_PREC 128
/* relative accuracy asked of lambda_max(U^* U); sigma = sqrt(lambda) gets half of it */
#define LANCZOS_TOL 2e-18L
/* the compared values are stored at this precision */
#define STORE_PREC 128
/* largest working precision tried or accepted */
#define MAX_BITS (1UL << 20)
#define MAX_ROUNDS 12
#define DIGITS_CAP 15

/* element (i, j), i <= j, of a packed upper triangular matrix (columns one after another) */
#define UP(i, j) ((size_t)(j) * ((size_t)(j) + 1) / 2 + (size_t)(i))

typedef struct {
    size_t n;
    int cx;               /* some entry has a nonzero imaginary part */
    const double *tr;     /* T (upper triangular), real and imaginary parts, column-major */
    const double *ti;
    const size_t *cls;    /* cls[i]: the first index of T's diagonal value T_ii (its class) */
    const size_t *mult;   /* mult[c]: how many diagonal entries class c has */
    const unsigned char *defective; /* defective[c]: class c is defective (exact) */
    int any_defective;
} problem;

typedef struct {
    mpfr_t kappa;         /* kappa_2(V), STORE_PREC bits */
    mpfr_t *cond;         /* n eig_cond, STORE_PREC bits, in T's order */
    int ready;
} run_result;

/* ---- small helpers -------------------------------------------------------------------- */

static mpfr_t *mp_array(size_t count, mpfr_prec_t prec)
{
    mpfr_t *a = malloc((count ? count : 1) * sizeof *a);
    if (!a) return NULL;
    for (size_t i = 0; i < count; i++) mpfr_init2(a[i], prec);
    return a;
}

static void mp_array_free(mpfr_t *a, size_t count)
{
    if (!a) return;
    for (size_t i = 0; i < count; i++) mpfr_clear(a[i]);
    free(a);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the tridiagonal of Lanczos (long double) ----------------------------------------- */

/* Number of eigenvalues of the k x k symmetric tridiagonal (a, b) below x. */
static size_t sturm_count(const long double *a, const long double *b, size_t k, long double x,
                          long double tiny)
{
    size_t c = 0;
    long double q = 1;
    for (size_t i = 0; i < k; i++) {
        q = a[i] - x - (i ? b[i - 1] * b[i - 1] / q : 0);
        if (q == 0) q = -tiny;
        if (q < 0) c++;
    }
    return c;
}

/* The m-th smallest eigenvalue (m = 0 .. k-1), by bisection inside [lo, hi]. */
static long double tri_eig(const long double *a, const long double *b, size_t k, size_t m,
                           long double lo, long double hi, long double tiny)
{
    for (int it = 0; it < 256 && hi - lo > 2 * LDBL_EPSILON * fmaxl(fabsl(lo), fabsl(hi)); it++) {
        long double mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi) break;
        if (sturm_count(a, b, k, mid, tiny) > m) hi = mid;
        else lo = mid;
    }
    return lo + (hi - lo) / 2;
}

/* Largest eigenvalue theta of T_k and |s_k|, the last component of its unit eigenvector.
 * z, l, d: scratch of k entries each. */
static void tri_top(const long double *a, const long double *b, size_t k, long double *theta,
                    long double *last, long double *z, long double *l, long double *d)
{
    if (k == 1) {
        *theta = a[0];
        *last = 1;
        return;
    }
    long double lo = INFINITY, hi = -INFINITY, tnorm = 0;
    for (size_t i = 0; i < k; i++) { /* Gershgorin */
        long double r = (i ? fabsl(b[i - 1]) : 0) + (i + 1 < k ? fabsl(b[i]) : 0);
        lo = fminl(lo, a[i] - r);
        hi = fmaxl(hi, a[i] + r);
        tnorm = fmaxl(tnorm, fabsl(a[i]) + r);
    }
    long double tiny = LDBL_EPSILON * tnorm + LDBL_MIN;
    *theta = tri_eig(a, b, k, k - 1, lo, hi, tiny);
    /* inverse iteration with sigma just above theta: sigma I - T is positive definite, so
     * LDL^T without pivoting is stable */
    long double sigma = *theta + 1e-15L * tnorm;
    d[0] = sigma - a[0];
    for (size_t i = 0; i + 1 < k; i++) {
        if (d[i] <= 0) d[i] = tiny;
        l[i] = -b[i] / d[i];
        d[i + 1] = sigma - a[i + 1] - b[i] * b[i] / d[i];
    }
    if (d[k - 1] <= 0) d[k - 1] = tiny;
    for (size_t i = 0; i < k; i++) z[i] = 1;
    for (int it = 0; it < 3; it++) {
        for (size_t i = 1; i < k; i++) z[i] -= l[i - 1] * z[i - 1];
        for (size_t i = 0; i < k; i++) z[i] /= d[i];
        for (size_t i = k - 1; i-- > 0;) z[i] -= l[i] * z[i + 1];
        long double s = 0, m = 0;
        for (size_t i = 0; i < k; i++) m = fmaxl(m, fabsl(z[i]));
        for (size_t i = 0; i < k; i++) {
            z[i] /= m;
            s += z[i] * z[i];
        }
        s = sqrtl(s);
        for (size_t i = 0; i < k; i++) z[i] /= s;
    }
    *last = fabsl(z[k - 1]);
}

/* ---- ||U||_2 of a packed upper triangular U by Lanczos on U^* U ------------------------ */

typedef struct {
    size_t n;
    int cx;
    mpfr_t *ur, *ui;      /* U at LANCZOS_PREC (ui NULL when real) */
} tri_matrix;

/* out = U^* U x; y is scratch.  Vectors are (re, im) pairs, im NULL when real. */
static void gram_apply(const tri_matrix *U, mpfr_t *xr, mpfr_t *xi, mpfr_t *yr, mpfr_t *yi,
                       mpfr_t *outr, mpfr_t *outi, mpfr_t t)
{
    size_t n = U->n;
    for (size_t i = 0; i < n; i++) {
        mpfr_set_zero(yr[i], 1);
        if (U->cx) mpfr_set_zero(yi[i], 1);
    }
    for (size_t j = 0; j < n; j++) /* y = U x */
        for (size_t i = 0; i <= j; i++) {
            const mpfr_t *a = &U->ur[UP(i, j)];
            if (mpfr_zero_p(*a) && (!U->cx || mpfr_zero_p(U->ui[UP(i, j)]))) continue;
            mpfr_mul(t, *a, xr[j], MPFR_RNDN);
            mpfr_add(yr[i], yr[i], t, MPFR_RNDN);
            if (U->cx) {
                const mpfr_t *b = &U->ui[UP(i, j)];
                mpfr_mul(t, *b, xi[j], MPFR_RNDN);
                mpfr_sub(yr[i], yr[i], t, MPFR_RNDN);
                mpfr_mul(t, *a, xi[j], MPFR_RNDN);
                mpfr_add(yi[i], yi[i], t, MPFR_RNDN);
                mpfr_mul(t, *b, xr[j], MPFR_RNDN);
                mpfr_add(yi[i], yi[i], t, MPFR_RNDN);
            }
        }
    for (size_t j = 0; j < n; j++) { /* out = U^* y: out_j = sum_{i<=j} conj(U_ij) y_i */
        mpfr_set_zero(outr[j], 1);
        if (U->cx) mpfr_set_zero(outi[j], 1);
        for (size_t i = 0; i <= j; i++) {
            const mpfr_t *a = &U->ur[UP(i, j)];
            if (mpfr_zero_p(*a) && (!U->cx || mpfr_zero_p(U->ui[UP(i, j)]))) continue;
            mpfr_mul(t, *a, yr[i], MPFR_RNDN);
            mpfr_add(outr[j], outr[j], t, MPFR_RNDN);
            if (U->cx) {
                const mpfr_t *b = &U->ui[UP(i, j)];
                mpfr_mul(t, *b, yi[i], MPFR_RNDN);
                mpfr_add(outr[j], outr[j], t, MPFR_RNDN);
                mpfr_mul(t, *a, yi[i], MPFR_RNDN);
                mpfr_add(outi[j], outi[j], t, MPFR_RNDN);
                mpfr_mul(t, *b, yr[i], MPFR_RNDN);
                mpfr_sub(outi[j], outi[j], t, MPFR_RNDN);
            }
        }
    }
}

/* c = <q, w> = sum conj(q) w */
static void cdot(size_t n, int cx, mpfr_t *qr, mpfr_t *qi, mpfr_t *wr, mpfr_t *wi, mpfr_t cr,
                 mpfr_t ci, mpfr_t t)
{
    mpfr_set_zero(cr, 1);
    mpfr_set_zero(ci, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_mul(t, qr[i], wr[i], MPFR_RNDN);
        mpfr_add(cr, cr, t, MPFR_RNDN);
        if (cx) {
            mpfr_mul(t, qi[i], wi[i], MPFR_RNDN);
            mpfr_add(cr, cr, t, MPFR_RNDN);
            mpfr_mul(t, qr[i], wi[i], MPFR_RNDN);
            mpfr_add(ci, ci, t, MPFR_RNDN);
            mpfr_mul(t, qi[i], wr[i], MPFR_RNDN);
            mpfr_sub(ci, ci, t, MPFR_RNDN);
        }
    }
}

/* w -= c q */
static void caxpy(size_t n, int cx, mpfr_t cr, mpfr_t ci, mpfr_t *qr, mpfr_t *qi, mpfr_t *wr,
                  mpfr_t *wi, mpfr_t t)
{
    for (size_t i = 0; i < n; i++) {
        mpfr_mul(t, cr, qr[i], MPFR_RNDN);
        mpfr_sub(wr[i], wr[i], t, MPFR_RNDN);
        if (cx) {
            mpfr_mul(t, ci, qi[i], MPFR_RNDN);
            mpfr_add(wr[i], wr[i], t, MPFR_RNDN);
            mpfr_mul(t, cr, qi[i], MPFR_RNDN);
            mpfr_sub(wi[i], wi[i], t, MPFR_RNDN);
            mpfr_mul(t, ci, qr[i], MPFR_RNDN);
            mpfr_sub(wi[i], wi[i], t, MPFR_RNDN);
        }
    }
}

static void cnorm(size_t n, int cx, mpfr_t *wr, mpfr_t *wi, mpfr_t out, mpfr_t t)
{
    mpfr_set_zero(out, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_sqr(t, wr[i], MPFR_RNDN);
        mpfr_add(out, out, t, MPFR_RNDN);
        if (cx) {
            mpfr_sqr(t, wi[i], MPFR_RNDN);
            mpfr_add(out, out, t, MPFR_RNDN);
        }
    }
    mpfr_sqrt(out, out, MPFR_RNDN);
}

/* sigma_max(U)^2 = theta 2^e, returned as an MPFR number `out`.  Fills *steps.
 * PTD_ENOMEM or PTD_OK. */
static int norm2_lanczos(const tri_matrix *U, mpfr_t out, size_t *steps)
{
    size_t n = U->n, nv = U->cx ? 2 : 1;
    int st = PTD_OK;
    /* Q: up to n Lanczos vectors; each vector n (re) [+ n (im)] */
    mpfr_t *Q = malloc(n * nv * n * sizeof *Q);
    mpfr_t *w = mp_array(nv * n, LANCZOS_PREC), *y = mp_array(nv * n, LANCZOS_PREC);
    long double *a = malloc(5 * n * sizeof *a);
    size_t nq = 0; /* vectors initialised in Q */
    mpfr_t t, cr, ci, nrm, scale;
    mpfr_inits2(LANCZOS_PREC, t, cr, ci, nrm, scale, (mpfr_ptr)0);
    if (!Q || !w || !y || !a) {
        st = ptd_error(PTD_ENOMEM, "out of memory (Lanczos, n = %zu)", n);
        goto done;
    }
    long double *b = a + n, *z = a + 2 * n, *l = a + 3 * n, *d = a + 4 * n;
#define QR(k) (Q + (k) * nv * n)
#define QI(k) (U->cx ? Q + (k) * nv * n + n : NULL)
    mpfr_t *wr = w, *wi = U->cx ? w + n : NULL, *yr = y, *yi = U->cx ? y + n : NULL;
    /* a fixed pseudo-random start (deterministic results), entries in [-1, 1) */
    unsigned long long s = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < nv * n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        mpfr_set_d(w[i], (double)(s >> 11) * 0x1p-52 - 1.0, MPFR_RNDN);
    }
    cnorm(n, U->cx, wr, wi, nrm, t);
    long double theta = 0, last;
    long exp_scale = 0;
    size_t k = 0;
    for (;;) {
        /* q_k = w / ||w|| */
        for (size_t i = 0; i < nv * n; i++) mpfr_init2(QR(k)[i], LANCZOS_PREC);
        nq = k + 1;
        for (size_t i = 0; i < nv * n; i++) mpfr_div(QR(k)[i], w[i], nrm, MPFR_RNDN);
        gram_apply(U, QR(k), QI(k), yr, yi, wr, wi, t);
        /* alpha_k and full reorthogonalisation, twice */
        long double alpha = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t j = 0; j <= k; j++) {
                cdot(n, U->cx, QR(j), QI(j), wr, wi, cr, ci, t);
                if (j == k) {
                    if (k == 0 && pass == 0) {
                        /* scale the tridiagonal by 2^e, e the exponent of alpha_0 */
                        if (mpfr_zero_p(cr)) exp_scale = 0;
                        else exp_scale = mpfr_get_exp(cr);
                        mpfr_set_ui_2exp(scale, 1, -exp_scale, MPFR_RNDN);
                    }
                    mpfr_mul(t, cr, scale, MPFR_RNDN);
                    alpha += mpfr_get_ld(t, MPFR_RNDN);
                }
                caxpy(n, U->cx, cr, ci, QR(j), QI(j), wr, wi, t);
            }
        }
        a[k] = alpha;
        cnorm(n, U->cx, wr, wi, nrm, t);
        mpfr_mul(t, nrm, scale, MPFR_RNDN);
        b[k] = mpfr_get_ld(t, MPFR_RNDN);
        k++;
        tri_top(a, b, k, &theta, &last, z, l, d);
        long double r = b[k - 1] * last, tol = LANCZOS_TOL * fabsl(theta);
        if (k == n || r <= tol) break;
        if (b[k - 1] <= 0x1p-100L * fabsl(theta)) break; /* invariant subspace */
    }
#undef QR
#undef QI
    *steps = k;
    mpfr_set_ld(out, theta, MPFR_RNDN);
    mpfr_mul_2si(out, out, exp_scale, MPFR_RNDN);
done:
    if (Q) {
        for (size_t kk = 0; kk < nq; kk++)
            for (size_t i = 0; i < nv * n; i++) mpfr_clear(Q[kk * nv * n + i]);
        free(Q);
    }
    mp_array_free(w, nv * n);
    mp_array_free(y, nv * n);
    free(a);
    mpfr_clears(t, cr, ci, nrm, scale, (mpfr_ptr)0);
    return st;
}

/* ---- exact arithmetic: is a repeated eigenvalue defective? ---------------------------- */

/* The exponent e of the last mantissa bit of v != 0: v = M 2^e with an integer |M| < 2^53. */
static long dyadic_exp(double v)
{
    int e;
    frexp(v, &e);
    return (long)e - 53;
}

/* z = v 2^-emin, exactly (an integer when emin <= dyadic_exp(v)). */
static void dyadic_set(mpz_t z, double v, long emin)
{
    if (v == 0) {
        mpz_set_ui(z, 0);
        return;
    }
    int e;
    double f = frexp(v, &e);
    mpz_set_d(z, ldexp(f, 53)); /* an integer below 2^53: exact */
    mpz_mul_2exp(z, z, (mp_bitcnt_t)((long)e - 53 - emin));
}

/* 1 if the class c (its first position c, its multiplicity mult[c] >= 2) is defective, 0 if
 * not, decided exactly by the fraction-free substitution described at the top; PTD_ENOMEM
 * (negative) if out of memory. */
static int class_defective(const problem *P, size_t c)
{
    size_t n = P->n, last = c;
    int cx = P->cx, res = 0;
    for (size_t i = c; i < n; i++)
        if (P->cls[i] == c) last = i;
    /* the least exponent over T[c..last] */
    long emin = LONG_MAX;
    for (size_t j = c; j <= last; j++)
        for (size_t i = c; i <= j; i++) {
            double a = P->tr[i + j * n], b = cx ? P->ti[i + j * n] : 0.0;
            if (a != 0) emin = dyadic_exp(a) < emin ? dyadic_exp(a) : emin;
            if (b != 0) emin = dyadic_exp(b) < emin ? dyadic_exp(b) : emin;
        }
    size_t len = last - c + 1;
    mpz_t *xr = malloc(len * sizeof *xr), *xi = malloc(len * sizeof *xi);
    if (!xr || !xi) {
        free(xr);
        free(xi);
        return -ptd_error(PTD_ENOMEM, "out of memory (exact test, n = %zu)", n);
    }
    for (size_t i = 0; i < len; i++) mpz_init(xr[i]), mpz_init(xi[i]);
    mpz_t sr, si, ar, ai, dr, di, t, u;
    mpz_inits(sr, si, ar, ai, dr, di, t, u, NULL);
    double lr = P->tr[c + c * n], li = cx ? P->ti[c + c * n] : 0.0;
    /* x_k for every later position k of the class, over the indices c..k (xr[i - c]) */
    for (size_t k = c + 1; k <= last && !res; k++) {
        if (P->cls[k] != c) continue;
        mpz_set_ui(xr[k - c], 1);
        mpz_set_ui(xi[k - c], 0);
        for (size_t i = k; i-- > c && !res;) {
            mpz_set_ui(sr, 0);
            mpz_set_ui(si, 0);
            for (size_t j = i + 1; j <= k; j++) { /* s += T_ij x_j */
                double a = P->tr[i + j * n], b = cx ? P->ti[i + j * n] : 0.0;
                if (a != 0) {
                    dyadic_set(ar, a, emin);
                    mpz_addmul(sr, ar, xr[j - c]);
                    if (cx) mpz_addmul(si, ar, xi[j - c]);
                }
                if (b != 0) {
                    dyadic_set(ai, b, emin);
                    mpz_submul(sr, ai, xi[j - c]);
                    mpz_addmul(si, ai, xr[j - c]);
                }
            }
            if (P->cls[i] == c) { /* a zero pivot: the row must be consistent */
                if (mpz_sgn(sr) || mpz_sgn(si)) res = 1;
                mpz_set_ui(xr[i - c], 0);
                mpz_set_ui(xi[i - c], 0);
                continue;
            }
            /* d x_i = -s: scale x_{i+1..k} by d = T_ii - lambda, then x_i = -s */
            dyadic_set(dr, P->tr[i + i * n], emin);
            dyadic_set(t, lr, emin);
            mpz_sub(dr, dr, t);
            dyadic_set(di, cx ? P->ti[i + i * n] : 0.0, emin);
            dyadic_set(t, li, emin);
            mpz_sub(di, di, t);
            mp_bitcnt_t two = ~(mp_bitcnt_t)0; /* the common power of 2, shifted out */
            for (size_t j = i + 1; j <= k; j++) {
                mpz_mul(t, xr[j - c], dr);
                if (cx) {
                    mpz_submul(t, xi[j - c], di);
                    mpz_mul(u, xr[j - c], di);
                    mpz_addmul(u, xi[j - c], dr);
                    mpz_swap(xi[j - c], u);
                }
                mpz_swap(xr[j - c], t);
            }
            mpz_neg(xr[i - c], sr);
            mpz_neg(xi[i - c], si);
            for (size_t j = i; j <= k; j++) {
                if (mpz_sgn(xr[j - c])) two = mpz_scan1(xr[j - c], 0) < two ? mpz_scan1(xr[j - c], 0) : two;
                if (mpz_sgn(xi[j - c])) two = mpz_scan1(xi[j - c], 0) < two ? mpz_scan1(xi[j - c], 0) : two;
            }
            if (two != ~(mp_bitcnt_t)0 && two > 0)
                for (size_t j = i; j <= k; j++) {
                    mpz_fdiv_q_2exp(xr[j - c], xr[j - c], two);
                    mpz_fdiv_q_2exp(xi[j - c], xi[j - c], two);
                }
        }
    }
    mpz_clears(sr, si, ar, ai, dr, di, t, u, NULL);
    for (size_t i = 0; i < len; i++) mpz_clear(xr[i]), mpz_clear(xi[i]);
    free(xr);
    free(xi);
    return res;
}

/* ---- one run at a given precision ----------------------------------------------------- */

/* Eigenvectors, eig_cond and kappa_V of T at `prec` bits into R (whose fields are already
 * initialised).  PTD_OK or PTD_ENOMEM. */
static int run_once(const problem *P, mpfr_prec_t prec, run_result *R, size_t steps[2])
{
    size_t n = P->n, np = n * (n + 1) / 2;
    int cx = P->cx, st = PTD_OK;
    const double *tr = P->tr, *ti = P->ti;
    mpfr_t *Vr = mp_array(np, prec), *Vi = cx ? mp_array(np, prec) : NULL;
    mpfr_t *Wr = mp_array(np, prec), *Wi = cx ? mp_array(np, prec) : NULL;
    mpfr_t *xn = mp_array(n, prec); /* ||x̂_k|| */
    mpfr_t *hr = mp_array(n, prec), *hi = mp_array(n, prec); /* a row of H (multiple eigenvalues) */
    tri_matrix L = {n, cx, NULL, NULL};
    L.ur = mp_array(np, LANCZOS_PREC);
    L.ui = cx ? mp_array(np, LANCZOS_PREC) : NULL;
    mpfr_t sr, si, t, dr, di, den, u, s2V, s2W;
    mpfr_inits2(prec, sr, si, t, dr, di, den, u, (mpfr_ptr)0);
    mpfr_inits2(LANCZOS_PREC, s2V, s2W, (mpfr_ptr)0);
    if (!Vr || !Wr || !xn || !hr || !hi || !L.ur || (cx && (!Vi || !Wi || !L.ui))) {
        st = ptd_error(PTD_ENOMEM, "out of memory (extended precision, n = %zu, %lu bits)", n,
                       (unsigned long)prec);
        goto done;
    }
#define TR(i, j) tr[(size_t)(i) + (size_t)(j) * n]
#define TI(i, j) ti[(size_t)(i) + (size_t)(j) * n]
    /* (dr + i di) = T_ii - T_kk, den = |.|^2 */
#define SET_DIFF(i, k)                                                                      \
    do {                                                                                    \
        mpfr_set_d(dr, TR(i, i), MPFR_RNDN);                                                \
        mpfr_sub_d(dr, dr, TR(k, k), MPFR_RNDN);                                            \
        if (cx) {                                                                           \
            mpfr_set_d(di, TI(i, i), MPFR_RNDN);                                            \
            mpfr_sub_d(di, di, TI(k, k), MPFR_RNDN);                                        \
            mpfr_sqr(den, dr, MPFR_RNDN);                                                   \
            mpfr_sqr(u, di, MPFR_RNDN);                                                     \
            mpfr_add(den, den, u, MPFR_RNDN);                                               \
        }                                                                                   \
    } while (0)
    /* (outr + i outi) = (sr + i si) / (dr + i di) */
#define CDIV(outr, outi)                                                                    \
    do {                                                                                    \
        if (!cx) mpfr_div(outr, sr, dr, MPFR_RNDN);                                         \
        else {                                                                              \
            mpfr_mul(outr, sr, dr, MPFR_RNDN);                                              \
            mpfr_mul(u, si, di, MPFR_RNDN);                                                 \
            mpfr_add(outr, outr, u, MPFR_RNDN);                                             \
            mpfr_div(outr, outr, den, MPFR_RNDN);                                           \
            mpfr_mul(outi, si, dr, MPFR_RNDN);                                              \
            mpfr_mul(u, sr, di, MPFR_RNDN);                                                 \
            mpfr_sub(outi, outi, u, MPFR_RNDN);                                             \
            mpfr_div(outi, outi, den, MPFR_RNDN);                                           \
        }                                                                                   \
    } while (0)
    /* (sr + i si) += T_ab (xr + i xi) */
#define ACC(a, b, xr, xi)                                                                   \
    do {                                                                                    \
        double ar_ = TR(a, b), ai_ = cx ? TI(a, b) : 0.0;                                   \
        if (ar_ != 0) {                                                                     \
            mpfr_mul_d(u, xr, ar_, MPFR_RNDN);                                              \
            mpfr_add(sr, sr, u, MPFR_RNDN);                                                 \
            if (cx) {                                                                       \
                mpfr_mul_d(u, xi, ar_, MPFR_RNDN);                                          \
                mpfr_add(si, si, u, MPFR_RNDN);                                             \
            }                                                                               \
        }                                                                                   \
        if (ai_ != 0) {                                                                     \
            mpfr_mul_d(u, xi, ai_, MPFR_RNDN);                                              \
            mpfr_sub(sr, sr, u, MPFR_RNDN);                                                 \
            mpfr_mul_d(u, xr, ai_, MPFR_RNDN);                                              \
            mpfr_add(si, si, u, MPFR_RNDN);                                                 \
        }                                                                                   \
    } while (0)

    const size_t *cls = P->cls, *mult = P->mult;
    /* right eigenvectors, column k of V, by back substitution */
    for (size_t k = 0; k < n; k++) {
        mpfr_t *xr = Vr + UP(0, k), *xi = cx ? Vi + UP(0, k) : NULL;
        if (P->defective[cls[k]]) continue; /* no column: kappa_V = inf */
        mpfr_set_ui(xr[k], 1, MPFR_RNDN);
        if (cx) mpfr_set_zero(xi[k], 1);
        for (size_t i = k; i-- > 0;) {
            if (cls[i] == cls[k]) { /* a zero pivot, consistent (not defective): free, 0 */
                mpfr_set_zero(xr[i], 1);
                if (cx) mpfr_set_zero(xi[i], 1);
                continue;
            }
            mpfr_set_zero(sr, 1);
            mpfr_set_zero(si, 1);
            for (size_t j = i + 1; j <= k; j++) ACC(i, j, xr[j], cx ? xi[j] : xr[j]);
            SET_DIFF(i, k);
            CDIV(xr[i], cx ? xi[i] : xr[i]);
            mpfr_neg(xr[i], xr[i], MPFR_RNDN);
            if (cx) mpfr_neg(xi[i], xi[i], MPFR_RNDN);
        }
        /* a multiple eigenvalue: orthogonalise against its earlier columns, twice */
        if (mult[cls[k]] > 1)
            for (int pass = 0; pass < 2; pass++)
                for (size_t q = cls[k]; q < k; q++) {
                    if (cls[q] != cls[k]) continue;
                    mpfr_t *qr = Vr + UP(0, q), *qi = cx ? Vi + UP(0, q) : NULL;
                    cdot(q + 1, cx, qr, qi, xr, xi, dr, di, u);
                    caxpy(q + 1, cx, dr, di, qr, qi, xr, xi, u);
                }
        cnorm(k + 1, cx, xr, xi, xn[k], u);
        for (size_t i = 0; i <= k; i++) {
            mpfr_div(xr[i], xr[i], xn[k], MPFR_RNDN);
            if (cx) mpfr_div(xi[i], xi[i], xn[k], MPFR_RNDN);
        }
    }
    /* left eigenvectors, row i of W, by forward substitution, scaled by ||x̂_i|| (simple) */
    for (size_t i = 0; i < n; i++) {
        if (P->defective[cls[i]]) {
            mpfr_set_inf(R->cond[i], 1);
            continue;
        }
        mpfr_set_ui(Wr[UP(i, i)], 1, MPFR_RNDN);
        if (cx) mpfr_set_zero(Wi[UP(i, i)], 1);
        for (size_t j = i + 1; j < n; j++) {
            if (cls[j] == cls[i]) {
                mpfr_set_zero(Wr[UP(i, j)], 1);
                if (cx) mpfr_set_zero(Wi[UP(i, j)], 1);
                continue;
            }
            mpfr_set_zero(sr, 1);
            mpfr_set_zero(si, 1);
            for (size_t l = i; l < j; l++) ACC(l, j, Wr[UP(i, l)], cx ? Wi[UP(i, l)] : Wr[UP(i, l)]);
            SET_DIFF(i, j);
            CDIV(Wr[UP(i, j)], cx ? Wi[UP(i, j)] : Wr[UP(i, j)]);
        }
        if (mult[cls[i]] > 1) continue; /* the class's rows are made below */
        mpfr_set_zero(t, 1);
        for (size_t j = i; j < n; j++) {
            mpfr_mul(Wr[UP(i, j)], Wr[UP(i, j)], xn[i], MPFR_RNDN);
            mpfr_sqr(u, Wr[UP(i, j)], MPFR_RNDN);
            mpfr_add(t, t, u, MPFR_RNDN);
            if (cx) {
                mpfr_mul(Wi[UP(i, j)], Wi[UP(i, j)], xn[i], MPFR_RNDN);
                mpfr_sqr(u, Wi[UP(i, j)], MPFR_RNDN);
                mpfr_add(t, t, u, MPFR_RNDN);
            }
        }
        mpfr_sqrt(R->cond[i], t, MPFR_RNDN);
    }
    /* a semisimple multiple eigenvalue: W_c = H^{-1} Y_c, H = Y_c Q_c upper triangular, by back
     * substitution over the class's positions from the last; then eig_cond = ||W_c||_2 */
    for (size_t c = 0; c < n; c++) {
        if (cls[c] != c || mult[c] < 2 || P->defective[c]) continue;
        for (size_t a = n; a-- > c;) {
            if (cls[a] != c) continue;
            size_t nh = 0;
            for (size_t b = a + 1; b < n; b++) { /* H_ab = sum_{l=a..b} Y_a[l] Q_b[l] */
                if (cls[b] != c) continue;
                mpfr_set_zero(hr[nh], 1);
                mpfr_set_zero(hi[nh], 1);
                for (size_t l = a; l <= b; l++) {
                    mpfr_fma(hr[nh], Wr[UP(a, l)], Vr[UP(l, b)], hr[nh], MPFR_RNDN);
                    if (cx) {
                        mpfr_mul(u, Wi[UP(a, l)], Vi[UP(l, b)], MPFR_RNDN);
                        mpfr_sub(hr[nh], hr[nh], u, MPFR_RNDN);
                        mpfr_fma(hi[nh], Wr[UP(a, l)], Vi[UP(l, b)], hi[nh], MPFR_RNDN);
                        mpfr_fma(hi[nh], Wi[UP(a, l)], Vr[UP(l, b)], hi[nh], MPFR_RNDN);
                    }
                }
                nh++;
            }
            nh = 0;
            for (size_t b = a + 1; b < n; b++) { /* row a -= H_ab (row b of W) */
                if (cls[b] != c) continue;
                for (size_t l = b; l < n; l++) {
                    mpfr_mul(u, hr[nh], Wr[UP(b, l)], MPFR_RNDN);
                    if (cx) {
                        mpfr_mul(t, hi[nh], Wi[UP(b, l)], MPFR_RNDN);
                        mpfr_sub(u, u, t, MPFR_RNDN);
                    }
                    mpfr_sub(Wr[UP(a, l)], Wr[UP(a, l)], u, MPFR_RNDN);
                    if (cx) {
                        mpfr_mul(u, hr[nh], Wi[UP(b, l)], MPFR_RNDN);
                        mpfr_fma(u, hi[nh], Wr[UP(b, l)], u, MPFR_RNDN);
                        mpfr_sub(Wi[UP(a, l)], Wi[UP(a, l)], u, MPFR_RNDN);
                    }
                }
                nh++;
            }
            /* H_aa = Q_c[a, a] = 1/||x̂_a|| after the orthogonalisation: real, positive */
            for (size_t l = a; l < n; l++) {
                mpfr_div(Wr[UP(a, l)], Wr[UP(a, l)], Vr[UP(a, a)], MPFR_RNDN);
                if (cx) mpfr_div(Wi[UP(a, l)], Wi[UP(a, l)], Vr[UP(a, a)], MPFR_RNDN);
            }
        }
        for (size_t p = 0; p < np; p++) {
            mpfr_set_zero(L.ur[p], 1);
            if (cx) mpfr_set_zero(L.ui[p], 1);
        }
        for (size_t a = c; a < n; a++)
            if (cls[a] == c)
                for (size_t l = a; l < n; l++) {
                    mpfr_set(L.ur[UP(a, l)], Wr[UP(a, l)], MPFR_RNDN);
                    if (cx) mpfr_set(L.ui[UP(a, l)], Wi[UP(a, l)], MPFR_RNDN);
                }
        size_t st_c;
        if ((st = norm2_lanczos(&L, s2W, &st_c))) goto done;
        mpfr_sqrt(s2W, s2W, MPFR_RNDN);
        for (size_t a = c; a < n; a++)
            if (cls[a] == c) mpfr_set(R->cond[a], s2W, MPFR_RNDN);
    }
#undef ACC
#undef CDIV
#undef SET_DIFF
#undef TR
#undef TI
    /* the two 2-norms */
    if (P->any_defective) {
        mpfr_set_inf(R->kappa, 1);
        R->ready = 1;
        goto done;
    }
    for (size_t p = 0; p < np; p++) {
        mpfr_set(L.ur[p], Vr[p], MPFR_RNDN);
        if (cx) mpfr_set(L.ui[p], Vi[p], MPFR_RNDN);
    }
    if ((st = norm2_lanczos(&L, s2V, &steps[0]))) goto done;
    for (size_t p = 0; p < np; p++) {
        mpfr_set(L.ur[p], Wr[p], MPFR_RNDN);
        if (cx) mpfr_set(L.ui[p], Wi[p], MPFR_RNDN);
    }
    if ((st = norm2_lanczos(&L, s2W, &steps[1]))) goto done;
    mpfr_mul(R->kappa, s2V, s2W, MPFR_RNDN);
    mpfr_sqrt(R->kappa, R->kappa, MPFR_RNDN);
    R->ready = 1;
done:
    mp_array_free(Vr, np);
    mp_array_free(Vi, cx ? np : 0);
    mp_array_free(Wr, np);
    mp_array_free(Wi, cx ? np : 0);
    mp_array_free(xn, n);
    mp_array_free(hr, n);
    mp_array_free(hi, n);
    mp_array_free(L.ur, np);
    mp_array_free(L.ui, cx ? np : 0);
    mpfr_clears(sr, si, t, dr, di, den, u, s2V, s2W, (mpfr_ptr)0);
    return st;
}

/* ---- agreement between two runs ------------------------------------------------------- */

/* Matching significant digits of a against b: floor(-log10 |a - b| / |b|), capped. */
static int agree_one(mpfr_t a, mpfr_t b, mpfr_t t)
{
    if (mpfr_equal_p(a, b)) return DIGITS_CAP;
    if (mpfr_zero_p(b)) return 0;
    mpfr_sub(t, a, b, MPFR_RNDN);
    mpfr_div(t, t, b, MPFR_RNDN);
    mpfr_abs(t, t, MPFR_RNDN);
    mpfr_log10(t, t, MPFR_RNDN);
    double d = floor(-mpfr_get_d(t, MPFR_RNDN));
    if (!(d > 0)) return 0;
    return d > DIGITS_CAP ? DIGITS_CAP : (int)d;
}

static int agreement(size_t n, run_result *a, run_result *b)
{
    mpfr_t t;
    mpfr_init2(t, STORE_PREC);
    int d = agree_one(a->kappa, b->kappa, t);
    for (size_t i = 0; i < n; i++) {
        int di = agree_one(a->cond[i], b->cond[i], t);
        if (di < d) d = di;
    }
    mpfr_clear(t);
    return d;
}

/* log2 of the largest of kappa and the eig_cond: how many bits cancellation may cost */
static double log2_size(size_t n, run_result *r)
{
    long e;
    double f = mpfr_inf_p(r->kappa) ? 0 : mpfr_get_d_2exp(&e, r->kappa, MPFR_RNDN);
    double best = f > 0 ? (double)e + log2(f) : 0;
    for (size_t i = 0; i < n; i++) {
        if (mpfr_inf_p(r->cond[i])) continue; /* defective: exact, costs no bits */
        f = mpfr_get_d_2exp(&e, r->cond[i], MPFR_RNDN);
        if (f > 0 && (double)e + log2(f) > best) best = (double)e + log2(f);
    }
    return best;
}

static int run_init(run_result *r, size_t n)
{
    mpfr_init2(r->kappa, STORE_PREC);
    r->ready = 0;
    r->cond = mp_array(n, STORE_PREC);
    return r->cond ? PTD_OK : PTD_ENOMEM;
}

static void run_clear(run_result *r, size_t n)
{
    mpfr_clear(r->kappa);
    mp_array_free(r->cond, n);
    r->cond = NULL;
}

/* ---- the public call ------------------------------------------------------------------ */

void ptd_eig_mp_free(ptd_eig_mp *e)
{
    if (!e) return;
    free(e->eig_cond);
    free(e->lambda);
    free(e->defective_at);
    free(e);
}

static unsigned long next_bits(unsigned long p)
{
    unsigned long q = p + (p / 2 > 64 ? p / 2 : 64);
    return (q + 31) / 32 * 32;
}

int ptd_cond_mp(const ptd_matrix *A, unsigned long bits, int digits, ptd_eig_mp **out)
{
    ptd_clear_error();
    if (!out) return ptd_error(PTD_EINVAL, "extended precision: no output pointer");
    *out = NULL;
    if (!A || A->rows != A->cols || A->rows == 0)
        return ptd_error(PTD_EINVAL, "extended precision: a square matrix of order >= 1 is needed");
    if (!ptd_matrix_is_finite(A))
        return ptd_error(PTD_EINVAL, "extended precision: the matrix has NaN or infinite entries");
    int upper = ptd_matrix_is_upper(A), lower = ptd_matrix_is_lower(A);
    if (!upper && !lower) return ptd_error(PTD_EINVAL, "extended precision needs a triangular matrix");
    if (bits != 0 && (bits < 53 || bits > MAX_BITS))
        return ptd_error(PTD_EINVAL, "extended precision: bits = %lu; accepted: 0 (automatic) or 53 .. %lu",
                         bits, (unsigned long)MAX_BITS);
    if (digits <= 0) digits = 10;
    if (digits > DIGITS_CAP) digits = DIGITS_CAP;
    size_t n = A->rows;
    double t0 = wall();
    /* T = A (upper) or J A J (lower): index i of T is index n-1-i of A */
    double *tr = malloc(2 * n * n * sizeof *tr);
    size_t *cls = malloc(n * sizeof *cls), *mult = calloc(n, sizeof *mult);
    unsigned char *def = calloc(n, 1);
    ptd_eig_mp *e = calloc(1, sizeof *e);
    run_result R[2];
    int have[2] = {0, 0}, st = PTD_OK;
    if (e) {
        e->eig_cond = malloc(n * sizeof *e->eig_cond);
        e->lambda = malloc(n * sizeof *e->lambda);
        e->defective_at = calloc(n, 1);
    }
    if (!tr || !cls || !mult || !def || !e || !e->eig_cond || !e->lambda || !e->defective_at) {
        st = ptd_error(PTD_ENOMEM, "out of memory (extended precision, n = %zu)", n);
        goto done;
    }
    double *ti = tr + n * n;
    int cx = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex a = upper ? PTD_AT(A, i, j) : PTD_AT(A, n - 1 - i, n - 1 - j);
            tr[i + j * n] = creal(a);
            ti[i + j * n] = cimag(a);
            if (cimag(a) != 0) cx = 1;
        }
    for (size_t i = 0; i < n; i++) e->lambda[i] = PTD_AT(A, i, i);
    /* classes of equal diagonal entries (exactly equal doubles), by T's index */
    for (size_t i = 0; i < n; i++) {
        size_t c = i;
        for (size_t k = 0; k < i && c == i; k++)
            if (tr[k + k * n] == tr[i + i * n] && ti[k + k * n] == ti[i + i * n]) c = cls[k];
        cls[i] = c;
        mult[c]++;
    }
    int any_def = 0;
    for (size_t c = 0; c < n; c++) {
        if (cls[c] != c || mult[c] < 2) continue;
        int d = class_defective(&(problem){n, cx, tr, ti, cls, mult, def, 0}, c);
        if (d < 0) {
            st = -d;
            goto done;
        }
        def[c] = (unsigned char)d;
        any_def |= d;
        e->repeated += mult[c];
        if (d) e->defective += mult[c];
    }
    for (size_t i = 0; i < n; i++) e->defective_at[upper ? i : n - 1 - i] = def[cls[i]];
    problem P = {n, cx, tr, ti, cls, mult, def, any_def};
    e->n = n;
    if (e->defective == n) { /* nothing finite to compute: the answer is exact */
        e->kappa_V = e->log10_kappa_V = INFINITY;
        for (size_t i = 0; i < n; i++) e->eig_cond[i] = INFINITY;
        e->bits = 0;
        e->digits = DIGITS_CAP;
        e->seconds = wall() - t0;
        goto done;
    }
    for (int r = 0; r < 2; r++) {
        if (run_init(&R[r], n)) {
            have[r] = 1;
            st = ptd_error(PTD_ENOMEM, "out of memory (extended precision, n = %zu)", n);
            goto done;
        }
        have[r] = 1;
    }
    size_t steps[2];
    unsigned long p = bits;
    if (bits == 0) {
        /* pilot at 128 bits, then 96 + 1.1 log2(size) until that settles */
        p = 128;
        for (int it = 0; it < MAX_ROUNDS; it++) {
            if ((st = run_once(&P, (mpfr_prec_t)p, &R[0], steps))) goto done;
            double need = 96 + 1.1 * log2_size(n, &R[0]);
            unsigned long q = (unsigned long)ceil(need / 32) * 32;
            if (q <= p) break;
            if (q > MAX_BITS) {
                st = ptd_error(PTD_ENOCONV, "extended precision: more than %lu bits would be needed",
                               (unsigned long)MAX_BITS);
                goto done;
            }
            p = q;
        }
    } else if ((st = run_once(&P, (mpfr_prec_t)p, &R[0], steps)))
        goto done;
    /* confirm: R[0] at p against R[1] at a higher precision */
    int agreed = -1;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        unsigned long q = next_bits(p);
        if (q > MAX_BITS) break;
        if ((st = run_once(&P, (mpfr_prec_t)q, &R[1], steps))) goto done;
        agreed = agreement(n, &R[0], &R[1]);
        if (agreed >= digits) break;
        /* the higher run becomes the working run */
        run_result tmp = R[0];
        R[0] = R[1];
        R[1] = tmp;
        p = q;
        agreed = -1;
    }
    if (agreed < 0) {
        st = ptd_error(PTD_ENOCONV,
                       "extended precision: two runs never agreed to %d digits (last working precision %lu bits)",
                       digits, p);
        goto done;
    }
    e->n = n;
    e->bits = p;
    e->digits = agreed;
    {
        mpfr_t lg;
        mpfr_init2(lg, STORE_PREC);
        e->kappa_V = mpfr_get_d(R[0].kappa, MPFR_RNDN);
        mpfr_log10(lg, R[0].kappa, MPFR_RNDN);
        e->log10_kappa_V = mpfr_get_d(lg, MPFR_RNDN);
        mpfr_clear(lg);
    }
    for (size_t i = 0; i < n; i++) {
        size_t ia = upper ? i : n - 1 - i; /* T index i is A index ia */
        e->eig_cond[ia] = mpfr_get_d(R[0].cond[i], MPFR_RNDN);
    }
    e->seconds = wall() - t0;
done:
    for (int r = 0; r < 2; r++)
        if (have[r]) run_clear(&R[r], n);
    free(tr);
    free(cls);
    free(mult);
    free(def);
    /* MPFR keeps constants (log 2, for mpfr_log10) in per-thread caches that would outlive a
     * caller's thread; drop this thread's now (only a recomputation for a later MPFR user) */
    mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
    if (st) {
        ptd_eig_mp_free(e);
        return st;
    }
    *out = e;
    return PTD_OK;
}
