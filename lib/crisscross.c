/* crisscross.c - the eps-pseudospectral abscissa and radius by criss-cross searches.
 *
 * Derivations (A is n x n, z a point, sigma a singular value of zI - A with unit singular
 * vectors (zI - A) v = sigma u, (zI - A)^* u = sigma v; here sigma = eps).
 *
 * Vertical line, z = x + iy, x fixed.  From the two equations
 *     (x + iy) v - A v = eps u        =>  iy v = (A - xI) v + eps u
 *     (x - iy) u - A^* u = eps v      =>  iy u = -eps v + (xI - A^*) u
 * so i y is an eigenvalue of the 2n x 2n matrix
 *     H(x) = [[A - xI, eps I], [-eps I, xI - A^*]]
 * with eigenvector (v; u).  H(x) is Hamiltonian: with J = [[0, I], [-I, 0]],
 * J H = [[-eps I, xI - A^*], [xI - A, -eps I]] is Hermitian, so its eigenvalues come in pairs
 * (l, -conj l) and the imaginary ones are exactly the y where some singular value of
 * (x + iy)I - A equals eps (Byers 1988; Burke, Lewis and Overton 2003).  Conversely every
 * eigenvalue i y gives such a y, though the singular value need not be the smallest: each
 * candidate is tested with sigma_min below.
 *
 * Horizontal line, z = x + iy, y fixed (the step of the published method, used with
 * opts->pure).  The same two equations solved for x:
 *     x v = (A - iyI) v + eps u,      x u = eps v + (A^* + iyI) u
 * so x is a real eigenvalue of K(y) = [[A - iyI, eps I], [eps I, A^* + iyI]] (i K(y) is
 * Hamiltonian).  For x beyond the largest such eigenvalue no singular value equals eps, and
 * all of them exceed eps as x -> infinity, so at the largest one sigma_min = eps.
 *
 * Ray from 0 at angle t, z = r e^{it}: zI - A = e^{it} (rI - e^{-it} A) has the singular
 * values of rI - B, B = e^{-it} A: the horizontal case with y = 0 for B.
 *
 * Circle |z| = r (Mengi and Overton 2005).  With lambda = z and conj(z) = r^2 / z:
 *     A v + eps u = lambda v,          lambda (eps v + A^* u) = r^2 u
 * a 2n pencil M x = lambda N x, M = [[A, eps I], [0, r^2 I]], N = [[I, 0], [eps I, A^*]], whose
 * eigenvalues on the circle |lambda| = r are the crossing points (it is symplectic after
 * scaling by r; the eigenvalues come in pairs lambda, r^2 / conj lambda).  QZ (zggev) on it
 * costs six times a standard eigenproblem, so we shift: for lambda0 on the circle that is
 * not an eigenvalue, (M - lambda0 N) x = (lambda - lambda0) N x gives the standard problem
 *     C x = nu x,   C = (M - lambda0 N)^{-1} N,   lambda = lambda0 + 1 / nu
 * (a Moebius map sends the circle to a line through the image of infinity).  lambda0 is
 * chosen where sigma_min(lambda0 I - A) is as far from eps as a few tries find, so that the
 * solve is well conditioned.
 *
 * The search.  The published methods alternate a global search (all crossings of a line or
 * circle, one 2n eigenproblem) with a global step (a 2n eigenproblem per interval).  Both
 * converge quadratically, but a 2n eigenproblem costs 0.35 s at n = 256, and the method needs
 * about five rounds of one to three of them.  Here the global search is kept exactly (it is
 * what makes the answer the global maximum: every component of Lambda_eps that reaches beyond
 * a line x >= alpha(A) crosses it, since it holds an eigenvalue), and the local steps are done
 * by root-finding on sigma_min itself (Brent, O(n^2) per evaluation on the Schur form): from
 * an interior point go outward to the boundary, then along the line or circle to the other
 * end of the interval, to its midpoint, and outward again; this is the criss-cross iteration
 * restricted to one component and converges alike.  When it has converged, one global search
 * at the value found either shows no interval beyond rounding (done) or gives a start in
 * another component.  opts->pure runs the published method, for reference and the tests.
 */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_roots.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* candidates within this relative distance of the line or circle are tested (false ones
 * only cost a sigma_min each; a missed crossing could merge two intervals) */
#define ON_CURVE_TOL 1e-6

typedef struct {
    const ptd_pspec_plan *p;
    const ptd_matrix *A;
    size_t n, N;
    double eps, nrm;
    int polar;               /* 0: z = a + ib (abscissa); 1: z = a e^{ib} (radius) */
    ptd_pspec_work *w;
    ptd_pspec_opts po;
    unsigned evals, eigs, rounds;
    int st;                  /* first hard failure */
    double complex *H, *G, *ev, *work;
    double *rwork;
    lapack_int lwork, *ipiv, *iwork;
    double *cand;
    gsl_root_fsolver *solver;
    /* a real A: the line's Hamiltonian (and the circle's pencil at a real shift) is real,
     * and LAPACK's real dgeev is about four times cheaper than zgeev at the same order */
    int real;
    double *Hr, *Rr, *wr, *wi, *dwork;
    lapack_int dlwork;
} cc;

static void cc_free(cc *c)
{
    ptd_pspec_work_free(c->w);
    free(c->H);
    free(c->G);
    free(c->ev);
    free(c->work);
    free(c->rwork);
    free(c->ipiv);
    free(c->iwork);
    free(c->cand);
    free(c->Hr);
    free(c->Rr);
    free(c->wr);
    free(c->wi);
    free(c->dwork);
    if (c->solver) gsl_root_fsolver_free(c->solver);
}

static int cc_init(cc *c, const ptd_pspec_plan *p, double eps, int polar)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->A = ptd_pspec_plan_matrix(p);
    c->n = ptd_pspec_plan_order(p);
    c->N = 2 * c->n;
    c->eps = eps;
    c->nrm = ptd_pspec_plan_norm2(p);
    c->polar = polar;
    c->po.tol = 1e-14;
    size_t N = c->N;
    c->w = ptd_pspec_work_alloc(p);
    c->H = malloc(N * N * sizeof *c->H);
    c->G = polar ? malloc(N * N * sizeof *c->G) : NULL;
    c->ev = malloc(N * sizeof *c->ev);
    c->rwork = malloc(2 * N * sizeof *c->rwork);
    c->ipiv = malloc(N * sizeof *c->ipiv);
    c->iwork = malloc(N * sizeof *c->iwork);
    c->cand = malloc((N + 1) * sizeof *c->cand);
    c->solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!c->w || !c->H || (polar && !c->G) || !c->ev || !c->rwork || !c->ipiv || !c->iwork || !c->cand || !c->solver) {
        cc_free(c);
        return ptd_error(PTD_ENOMEM, "criss-cross: out of memory (n = %zu)", c->n);
    }
    /* zgeev's workspace, asked once so that the searches do not allocate */
    double complex q;
    lapack_int info = LAPACKE_zgeev_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)N, c->H, (lapack_int)N,
                                         c->ev, NULL, 1, NULL, 1, &q, -1, c->rwork);
    c->lwork = info == 0 ? (lapack_int)creal(q) : (lapack_int)(2 * N);
    if (c->lwork < (lapack_int)(2 * N)) c->lwork = (lapack_int)(2 * N);
    c->work = malloc((size_t)c->lwork * sizeof *c->work);
    if (!c->work) {
        cc_free(c);
        return ptd_error(PTD_ENOMEM, "criss-cross: out of memory (n = %zu)", c->n);
    }
    c->real = 1;
    for (size_t k = 0; k < c->n * c->n && c->real; k++) c->real = cimag(c->A->data[k]) == 0;
    if (c->real) {
        c->Hr = malloc(N * N * sizeof *c->Hr);
        c->Rr = polar ? malloc(N * N * sizeof *c->Rr) : NULL;
        c->wr = malloc(N * sizeof *c->wr);
        c->wi = malloc(N * sizeof *c->wi);
        double dq = 0;
        info = c->Hr && c->wr && c->wi ? LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)N, c->Hr,
                                                            (lapack_int)N, c->wr, c->wi, NULL, 1, NULL, 1, &dq, -1)
                                       : -1;
        c->dlwork = info == 0 ? (lapack_int)dq : (lapack_int)(4 * N);
        if (c->dlwork < (lapack_int)(4 * N)) c->dlwork = (lapack_int)(4 * N);
        c->dwork = malloc((size_t)c->dlwork * sizeof *c->dwork);
        if (!c->Hr || (polar && !c->Rr) || !c->wr || !c->wi || !c->dwork) {
            cc_free(c);
            return ptd_error(PTD_ENOMEM, "criss-cross: out of memory (n = %zu)", c->n);
        }
    }
    return PTD_OK;
}

static double complex zpt(const cc *c, double a, double b)
{
    return c->polar ? CMPLX(a * cos(b), a * sin(b)) : CMPLX(a, b);
}

/* sigma_min at z(a, b); NAN after a hard failure (recorded in c->st). */
static double sig(cc *c, double a, double b, double *err)
{
    ptd_pspec_point r = {0, 0, 0};
    int st = ptd_pspec_sigma_min(c->p, c->w, zpt(c, a, b), &c->po, &r);
    c->evals++;
    if (st && st != PTD_ENOCONV) {
        if (!c->st) c->st = st;
        return NAN;
    }
    if (err) *err = r.err;
    return r.sigma;
}

/* How far below eps a value must be to count as inside beyond its rounding. */
static double margin(const cc *c, double err) { return 4 * err + 16 * PTD_U * c->eps; }

static int inside(cc *c, double a, double b, double *s)
{
    double e = 0;
    *s = sig(c, a, b, &e);
    return *s < c->eps - margin(c, e);
}

/* --- root-finding along a coordinate ------------------------------------------------------ */

typedef struct {
    cc *c;
    int along_a;
    double fixed;
} line_fn;

static double line_f(double t, void *ctx)
{
    line_fn *l = ctx;
    double s = l->along_a ? sig(l->c, t, l->fixed, NULL) : sig(l->c, l->fixed, t, NULL);
    return isnan(s) ? GSL_NAN : s - l->c->eps;
}

/* A root of sigma - eps in [lo, hi] (values of opposite signs at the ends; lo inside). */
static double brent(cc *c, int along_a, double fixed, double lo, double hi, double scale)
{
    line_fn l = {c, along_a, fixed};
    gsl_function F = {line_f, &l};
    double x0 = fmin(lo, hi), x1 = fmax(lo, hi);
    if (gsl_root_fsolver_set(c->solver, &F, x0, x1) != GSL_SUCCESS) return lo;
    double root = lo;
    for (int it = 0; it < 100; it++) {
        if (gsl_root_fsolver_iterate(c->solver) != GSL_SUCCESS) break;
        root = gsl_root_fsolver_root(c->solver);
        x0 = gsl_root_fsolver_x_lower(c->solver);
        x1 = gsl_root_fsolver_x_upper(c->solver);
        if (gsl_root_test_interval(x0, x1, 4 * PTD_U * scale, 4 * PTD_U) == GSL_SUCCESS) break;
    }
    return root;
}

/* From an interior point (a0, b) with sigma s0 < eps, the boundary outward along a. */
static double outward(cc *c, double a0, double b, double s0)
{
    double scale = fabs(a0) + c->eps;
    /* sigma_min is 1-Lipschitz in z and |dz/da| = 1: no crossing closer than eps - s0 */
    double step = fmax(c->eps - s0, 8 * PTD_U * scale), lo = a0, hi = a0;
    for (int k = 0; k < 200; k++) {
        hi = lo + step;
        double s = sig(c, hi, b, NULL);
        if (isnan(s)) return a0;
        if (s >= c->eps) break;
        lo = hi;
        step *= 2;
    }
    return brent(c, 1, b, lo, hi, fabs(hi) + c->eps);
}

/* From an interior point (a, b0) with sigma s0, the boundary along b in direction dir.
 * Along a circle |dz/db| = a; a whole circle inside returns b0 + dir 2 pi. */
static double sideways(cc *c, double a, double b0, int dir, double s0)
{
    double lip = c->polar ? fmax(a, DBL_MIN) : 1.0;
    double scale = c->polar ? 1.0 : fabs(b0) + fabs(a) + c->eps;
    double step = fmax((c->eps - s0) / lip, 8 * PTD_U * scale), lo = b0, hi = b0;
    for (int k = 0; k < 200; k++) {
        hi = lo + dir * step;
        if (c->polar && fabs(hi - b0) >= 2 * M_PI) return b0 + dir * 2 * M_PI;
        double s = sig(c, a, hi, NULL);
        if (isnan(s)) return b0;
        if (s >= c->eps) break;
        lo = hi;
        step *= 2;
    }
    return brent(c, 0, a, lo, hi, fabs(hi) + (c->polar ? 1.0 : fabs(a) + c->eps));
}

/* The criss-cross iteration on one component, from an interior point: returns the largest
 * a it reaches and where. */
static void local_max(cc *c, double a0, double b0, double s0, double *a_out, double *b_out)
{
    double a = outward(c, a0, b0, s0), b = b0;
    double hs = c->eps + fabs(a) + (c->polar ? 0 : fabs(b));
    double tob = c->polar ? 1.0 / fmax(fabs(a), c->eps) : 1.0; /* length to coordinate b */
    double h = 0.1 * c->eps * tob, hmin = 1e-10 * hs * tob;
    int stall = 0;
    for (int it = 0; it < 200 && !c->st; it++) {
        /* one end of the interval on this line is (a, b): find which side is inside */
        int dir = 0;
        double s1 = 0, sp, sm;
        while (h >= hmin) {
            int ip = inside(c, a, b + h, &sp), im = inside(c, a, b - h, &sm);
            if (ip || im) {
                dir = (ip && (!im || sp <= sm)) ? 1 : -1;
                s1 = dir > 0 ? sp : sm;
                break;
            }
            h /= 16;
        }
        if (!dir) break; /* no interval longer than hmin: a is maximal on this component */
        double b1 = b + dir * h;
        double be = sideways(c, a, b1, dir, s1);
        double mid = 0.5 * (b + be), smid;
        if (!inside(c, a, mid, &smid)) {
            mid = b1;
            smid = s1;
        }
        double an = outward(c, a, mid, smid);
        double len = fabs(be - b);
        if (an <= a + 4 * PTD_U * (fabs(a) + c->eps)) {
            if (++stall >= 2) break;
        } else {
            stall = 0;
        }
        if (an > a) {
            a = an;
            b = mid;
        }
        h = fmax(0.25 * len, hmin);
    }
    *a_out = a;
    *b_out = b;
}

/* --- the 2n eigenproblems ---------------------------------------------------------------- */

static int eig_H(cc *c, double complex *M)
{
    lapack_int N = (lapack_int)c->N;
    lapack_int info = LAPACKE_zgeev_work(LAPACK_COL_MAJOR, 'N', 'N', N, M, N, c->ev, NULL, 1, NULL, 1,
                                         c->work, c->lwork, c->rwork);
    c->eigs++;
    return ptd_lapack_status("zgeev", (int)info);
}

/* The real counterpart of eig_H: eigenvalues of the real N x N M (overwritten) into c->ev. */
static int eig_Hr(cc *c, double *M)
{
    lapack_int N = (lapack_int)c->N;
    lapack_int info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'N', N, M, N, c->wr, c->wi, NULL, 1, NULL, 1,
                                         c->dwork, c->dlwork);
    c->eigs++;
    for (size_t k = 0; k < c->N; k++) c->ev[k] = CMPLX(c->wr[k], c->wi[k]);
    return ptd_lapack_status("dgeev", (int)info);
}

/* Real H = [[A - s I, eps I], [t eps I, g A^T + u I]] for a real A and real s, u. */
static void fill_real(cc *c, double s, double t, double g, double u)
{
    size_t n = c->n, N = c->N;
    double *H = c->Hr;
    memset(H, 0, N * N * sizeof *H);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double b = creal(PTD_AT(c->A, i, j));
            H[i + j * N] = b;
            H[(n + j) + (n + i) * N] = g * b;
        }
    for (size_t i = 0; i < n; i++) {
        H[i + i * N] -= s;
        H[(n + i) + (n + i) * N] += u;
        H[i + (n + i) * N] = c->eps;
        H[(n + i) + i * N] = t * c->eps;
    }
}

/* Fill H with [[B - s I, eps I], [t eps I, g B^* + u I]], B = phase A. */
static void fill(cc *c, double complex phase, double complex s, double t, double g, double complex u)
{
    size_t n = c->n, N = c->N;
    double complex *H = c->H;
    memset(H, 0, N * N * sizeof *H);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double complex b = phase * PTD_AT(c->A, i, j);
            H[i + j * N] = b;
            H[(n + j) + (n + i) * N] = g * conj(b);
        }
    for (size_t i = 0; i < n; i++) {
        H[i + i * N] -= s;
        H[(n + i) + (n + i) * N] += u;
        H[i + (n + i) * N] = c->eps;
        H[(n + i) + i * N] = t * c->eps;
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* --- the circle search ------------------------------------------------------------------
 *
 * The pencil M - lambda N is singular at lambda0 exactly when some singular value of
 * lambda0 I - A (not only the smallest) equals eps, and where the circle is itself the level
 * curve (A = 0, Jordan blocks, weighted shifts: sigma_min depends on |z| only) the pencil is
 * singular at every point of it.  A shift is therefore accepted only after its LU factors
 * show G = M - lambda0 N well conditioned (rcond >= SHIFT_RCOND: the computed C then carries
 * a relative error of about u / rcond <= 1e-10, far inside ON_CURVE_TOL); the tries are
 * ordered by how far sigma_min is from eps there, the cheap guess.  When no try qualifies
 * the pencil is solved as it is by QZ (xGGEV, backward stable for any pencil, about six
 * times the cost); its indeterminate eigenvalues (alpha = beta = 0, a singular pencil) are
 * dropped and every other one on the circle is a candidate, false candidates costing one
 * sigma_min each. */
#define SHIFT_RCOND 1e-6
#define NSHIFT 8

/* G = M - l0 N = [[A - l0 I, eps I], [-l0 eps I, r^2 I - l0 A^*]] and R = N =
 * [[I, 0], [eps I, A^*]], real (c->Hr, c->Rr; l0 real) or complex (c->H, c->G). */
static void fill_circle(cc *c, double complex l0, double r, int real)
{
    size_t n = c->n, N = c->N;
    if (real) {
        double l = creal(l0);
        fill_real(c, l, -l, -l, r * r);
        double *R = c->Rr;
        memset(R, 0, N * N * sizeof *R);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) R[(n + i) + (n + j) * N] = creal(PTD_AT(c->A, j, i));
        for (size_t i = 0; i < n; i++) {
            R[i + i * N] = 1.0;
            R[(n + i) + i * N] = c->eps;
        }
        return;
    }
    fill(c, 1.0, l0, 0.0, 1.0, 0.0);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) c->H[(n + i) + (n + j) * N] *= -l0;
    for (size_t i = 0; i < n; i++) {
        c->H[(n + i) + (n + i) * N] += r * r;
        c->H[(n + i) + i * N] = -l0 * c->eps;
    }
    double complex *R = c->G;
    memset(R, 0, N * N * sizeof *R);
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) R[(n + i) + (n + j) * N] = conj(PTD_AT(c->A, j, i));
    for (size_t i = 0; i < n; i++) {
        R[i + i * N] = 1.0;
        R[(n + i) + i * N] = c->eps;
    }
}

/* LU of the filled G and its reciprocal condition number (1-norm); 0 when exactly singular. */
static int shift_lu(cc *c, int real, double *rcond)
{
    lapack_int N = (lapack_int)c->N, info;
    *rcond = 0;
    if (real) {
        double anorm = LAPACKE_dlange_work(LAPACK_COL_MAJOR, '1', N, N, c->Hr, N, NULL);
        info = LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, N, N, c->Hr, N, c->ipiv);
        if (info > 0) return PTD_OK;
        if (info < 0) return ptd_lapack_status("dgetrf", (int)info);
        info = LAPACKE_dgecon_work(LAPACK_COL_MAJOR, '1', N, c->Hr, N, anorm, rcond, c->dwork, c->iwork);
        return ptd_lapack_status("dgecon", (int)info);
    }
    double anorm = LAPACKE_zlange_work(LAPACK_COL_MAJOR, '1', N, N, c->H, N, c->rwork);
    info = LAPACKE_zgetrf_work(LAPACK_COL_MAJOR, N, N, c->H, N, c->ipiv);
    if (info > 0) return PTD_OK;
    if (info < 0) return ptd_lapack_status("zgetrf", (int)info);
    info = LAPACKE_zgecon_work(LAPACK_COL_MAJOR, '1', N, c->H, N, anorm, rcond, c->work, c->rwork);
    return ptd_lapack_status("zgecon", (int)info);
}

/* Candidate angles from the eigenvalues lambda = l0 + 1/nu of C = G^{-1} N (c->ev). */
static size_t shifted_candidates(cc *c, double complex l0, double r)
{
    size_t m = 0;
    for (size_t k = 0; k < c->N; k++) {
        if (c->ev[k] == 0) continue;
        double complex l = l0 + 1.0 / c->ev[k];
        if (fabs(cabs(l) - r) <= ON_CURVE_TOL * (r + c->eps)) c->cand[m++] = carg(l);
    }
    return m;
}

/* The pencil without a shift, by QZ. */
static int circle_qz(cc *c, double r, size_t *count)
{
    size_t N = c->N, m = 0;
    lapack_int iN = (lapack_int)N, info;
    int real = c->real;
    double complex *alpha = malloc(N * sizeof *alpha), *beta = malloc(N * sizeof *beta);
    double *ar = malloc(3 * N * sizeof *ar), *rw = malloc(8 * N * sizeof *rw);
    if (!alpha || !beta || !ar || !rw) {
        free(alpha);
        free(beta);
        free(ar);
        free(rw);
        return ptd_error(PTD_ENOMEM, "criss-cross: out of memory (QZ, n = %zu)", c->n);
    }
    /* M = [[A, eps I], [0, r^2 I]] into H / Hr (the shift-free G), N into G / Rr */
    fill_circle(c, 0.0, r, real);
    c->eigs++;
    if (real) {
        double q = 0;
        info = LAPACKE_dggev_work(LAPACK_COL_MAJOR, 'N', 'N', iN, c->Hr, iN, c->Rr, iN, ar, ar + N, ar + 2 * N, NULL,
                                  1, NULL, 1, &q, -1);
        lapack_int lw = info == 0 ? (lapack_int)q : 8 * iN;
        double *wk = malloc((size_t)lw * sizeof *wk);
        info = wk ? LAPACKE_dggev_work(LAPACK_COL_MAJOR, 'N', 'N', iN, c->Hr, iN, c->Rr, iN, ar, ar + N, ar + 2 * N,
                                       NULL, 1, NULL, 1, wk, lw)
                  : -1000;
        free(wk);
        for (size_t k = 0; k < N; k++) {
            alpha[k] = CMPLX(ar[k], ar[N + k]);
            beta[k] = ar[2 * N + k];
        }
    } else {
        double complex q = 0;
        info = LAPACKE_zggev_work(LAPACK_COL_MAJOR, 'N', 'N', iN, c->H, iN, c->G, iN, alpha, beta, NULL, 1, NULL, 1,
                                  &q, -1, rw);
        lapack_int lw = info == 0 ? (lapack_int)creal(q) : 2 * iN;
        double complex *wk = malloc((size_t)lw * sizeof *wk);
        info = wk ? LAPACKE_zggev_work(LAPACK_COL_MAJOR, 'N', 'N', iN, c->H, iN, c->G, iN, alpha, beta, NULL, 1, NULL,
                                       1, wk, lw, rw)
                  : -1000;
        free(wk);
    }
    int st = info == -1000 ? ptd_error(PTD_ENOMEM, "criss-cross: out of memory (QZ, n = %zu)", c->n)
                           : ptd_lapack_status(real ? "dggev" : "zggev", (int)info);
    if (!st) {
        /* |alpha| and |beta| both at rounding level: an indeterminate eigenvalue */
        double tiny = 64 * PTD_U * (c->nrm + r * r + c->eps + 1);
        for (size_t k = 0; k < N; k++) {
            if (beta[k] == 0 || (cabs(alpha[k]) <= tiny && cabs(beta[k]) <= tiny)) continue;
            double complex l = alpha[k] / beta[k];
            if (fabs(cabs(l) - r) <= ON_CURVE_TOL * (r + c->eps)) c->cand[m++] = carg(l);
        }
        *count = m;
    }
    free(alpha);
    free(beta);
    free(ar);
    free(rw);
    return st;
}

static int circle_crossings(cc *c, double r, size_t *count)
{
    /* the tries: six angles around the circle, and for a real A the two real points, whose
     * shift keeps the whole computation real (four times cheaper) and which are preferred
     * while sigma_min there is at least half as far from eps as at the best try */
    double phi[NSHIFT], score[NSHIFT];
    int isreal[NSHIFT], order[NSHIFT];
    int nt = 0;
    for (int k = 0; k < 6; k++, nt++) {
        phi[nt] = 0.3712 + 1.0471975511965976 * k;
        isreal[nt] = 0;
    }
    if (c->real)
        for (int k = 0; k < 2; k++, nt++) {
            phi[nt] = k ? M_PI : 0.0;
            isreal[nt] = 1;
        }
    for (int k = 0; k < nt; k++) {
        double s = sig(c, r, phi[k], NULL);
        if (isnan(s)) return c->st;
        score[k] = fabs(s - c->eps) * (isreal[k] ? 2.0 : 1.0);
        order[k] = k;
    }
    /* insertion sort, best first; ties keep the order above */
    for (int i = 1; i < nt; i++)
        for (int j = i; j > 0 && score[order[j]] > score[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int t = 0; t < nt; t++) {
        int k = order[t];
        double complex l0 = isreal[k] ? CMPLX(r * cos(phi[k]), 0.0) : CMPLX(r * cos(phi[k]), r * sin(phi[k]));
        fill_circle(c, l0, r, isreal[k]);
        double rcond = 0;
        int st = shift_lu(c, isreal[k], &rcond);
        if (st) return st;
        if (!(rcond >= SHIFT_RCOND)) continue;
        lapack_int N = (lapack_int)c->N, info;
        if (isreal[k]) {
            info = LAPACKE_dgetrs_work(LAPACK_COL_MAJOR, 'N', N, N, c->Hr, N, c->ipiv, c->Rr, N);
            if ((st = ptd_lapack_status("dgetrs", (int)info))) return st;
            if ((st = eig_Hr(c, c->Rr))) return st;
        } else {
            info = LAPACKE_zgetrs_work(LAPACK_COL_MAJOR, 'N', N, N, c->H, N, c->ipiv, c->G, N);
            if ((st = ptd_lapack_status("zgetrs", (int)info))) return st;
            if ((st = eig_H(c, c->G))) return st;
        }
        *count = shifted_candidates(c, l0, r);
        return PTD_OK;
    }
    return circle_qz(c, r, count);
}

/* Crossings of the level set with the line Re z = x (polar = 0) or circle |z| = x. */
static int crossings(cc *c, double x, size_t *count)
{
    size_t N = c->N, m = 0;
    int st;
    c->rounds++;
    if (!c->polar) {
        /* H(x) = [[A - xI, eps I], [-eps I, xI - A^*]] */
        if (c->real) {
            fill_real(c, x, -1.0, -1.0, x);
            if ((st = eig_Hr(c, c->Hr))) return st;
        } else {
            fill(c, 1.0, x, -1.0, -1.0, x);
            if ((st = eig_H(c, c->H))) return st;
        }
        double tol = ON_CURVE_TOL * (c->nrm + fabs(x) + c->eps);
        for (size_t k = 0; k < N; k++)
            if (fabs(creal(c->ev[k])) <= tol) c->cand[m++] = cimag(c->ev[k]);
    } else {
        if ((st = circle_crossings(c, x, &m))) return st;
    }
    qsort(c->cand, m, sizeof *c->cand, cmp_double);
    *count = m;
    return PTD_OK;
}

/* pure mode's step: the largest a on the line b fixed (horizontal line or ray) where some
 * singular value equals eps, confirmed by sigma_min; -INFINITY when there is none. */
static int global_step(cc *c, double b, double *a_out)
{
    int st;
    if (!c->polar) fill(c, 1.0, CMPLX(0, b), 1.0, 1.0, CMPLX(0, b)); /* K(y) */
    else fill(c, cexp(CMPLX(0, -b)), 0.0, 1.0, 1.0, 0.0);      /* K for e^{-ib} A, y = 0 */
    if ((st = eig_H(c, c->H))) return st;
    size_t m = 0;
    double tol = ON_CURVE_TOL * (c->nrm + fabs(b) + c->eps);
    for (size_t k = 0; k < c->N; k++)
        if (fabs(cimag(c->ev[k])) <= tol) c->cand[m++] = creal(c->ev[k]);
    qsort(c->cand, m, sizeof *c->cand, cmp_double);
    *a_out = -INFINITY;
    for (size_t k = m; k-- > 0;) {
        double a = c->cand[k], e = 0;
        if (c->polar && a < 0) break;
        double s = sig(c, a, b, &e);
        if (isnan(s)) return c->st;
        if (fabs(s - c->eps) <= 1e-6 * c->eps + margin(c, e)) {
            *a_out = a;
            break;
        }
    }
    return PTD_OK;
}

/* --- the driver --------------------------------------------------------------------------- */

/* The verification grid over the enclosure W(A) + eps: a point with sigma_min < eps beyond
 * the value found would disprove it. */
static int verify_grid(const ptd_pspec_plan *p, double eps, int polar, double a, size_t v, ptd_pspec_extreme *res,
                       const char *what)
{
    ptd_box box;
    int st = ptd_fov_box(ptd_pspec_plan_matrix(p), &box);
    if (st) return st;
    box.xmin -= eps;
    box.xmax += eps;
    box.ymin -= eps;
    box.ymax += eps;
    ptd_pspec_grid *g = NULL;
    if ((st = ptd_pspec_grid_compute(p, &box, v, v, NULL, &g))) return st;
    double gmax = -INFINITY, tol = 64 * PTD_U * (fabs(a) + eps);
    int bad = 0;
    double complex zbad = 0;
    for (size_t j = 0; j < v; j++)
        for (size_t i = 0; i < v; i++) {
            double sg = g->sigma[i + j * v], er = g->err[i + j * v];
            double complex z = CMPLX(ptd_pspec_grid_x(g, i), ptd_pspec_grid_y(g, j));
            double val = polar ? cabs(z) : creal(z);
            if (sg + er <= eps && val > gmax) gmax = val;
            if (sg + er < eps && val > a + tol && !bad) {
                bad = 1;
                zbad = z;
            }
        }
    res->grid_points = v * v;
    res->grid_value = isfinite(gmax) ? gmax : NAN;
    ptd_pspec_grid_free(g);
    if (bad)
        return ptd_error(PTD_ENOCONV, "%s: the verification grid has sigma_min < eps at %g%+gi, beyond %.17g", what,
                         creal(zbad), cimag(zbad), a);
    return PTD_OK;
}

/* Below the 2n eigenproblem's floor no global search is trustworthy, but on an exact plan
 * sigma_min is: the criss-cross iteration restricted to one component, run from every
 * eigenvalue (every component holds one), gives the largest local maximum, a value that is
 * attained (a lower bound on the true one) without a certificate that nothing lies beyond. */
static void local_everywhere(cc *c, double *a_out, double *b_out)
{
    const double complex *ev = ptd_pspec_plan_eigenvalues(c->p);
    double best = -INFINITY, bbest = 0;
    for (size_t i = 0; i < c->n && !c->st; i++) {
        double a0 = c->polar ? cabs(ev[i]) : creal(ev[i]);
        double b0 = c->polar ? carg(ev[i]) : cimag(ev[i]);
        /* the same eigenvalue twice (a repeated one) gives the same component */
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = ev[j] == ev[i];
        if (seen) continue;
        double s0 = sig(c, a0, b0, NULL), a = a0, b = b0;
        if (c->st) break;
        if (!(s0 < c->eps)) continue; /* cannot happen on an exact plan: sigma_min = 0 there */
        local_max(c, a0, b0, s0, &a, &b);
        if (a > best) {
            best = a;
            bbest = b;
        }
    }
    *a_out = best;
    *b_out = bbest;
}

static int extreme(const ptd_pspec_plan *p, double eps, const ptd_pspec_extreme_opts *o, int polar,
                   ptd_pspec_extreme *res)
{
    const char *what = polar ? "pseudospectral radius" : "pseudospectral abscissa";
    ptd_clear_error();
    if (!p || !res) return ptd_error(PTD_EINVAL, "%s: plan or result is NULL", what);
    memset(res, 0, sizeof *res);
    res->value = NAN;
    res->value_err = NAN;
    if (ptd_pspec_plan_rows(p) != ptd_pspec_plan_order(p))
        return ptd_error(PTD_EINVAL, "%s: not for a rectangular matrix (%zu x %zu)", what, ptd_pspec_plan_rows(p),
                         ptd_pspec_plan_order(p));
    res->grid_value = NAN;
    if (!(eps > 0) || !isfinite(eps)) return ptd_error(PTD_EINVAL, "%s: eps must be positive and finite (got %g)", what, eps);
    double floor_ = ptd_pspec_plan_floor(p);
    if (eps <= 4 * floor_)
        return ptd_error(PTD_EINVAL, "%s: eps = %g is not above the rounding floor 4 n u ||A|| = %.3g", what,
                         eps, 4 * floor_);
    int pure = o && o->pure;
    unsigned maxit = o && o->maxit ? o->maxit : 30;
    /* The global searches are 2n eigenproblems in double precision, backward stable to about
     * n u ||A||: what they show is the level set of a matrix that near A at an eps that near
     * eps, so below 4 n u ||A|| they prove nothing, however exact the plan is. */
    double cc_floor = ptd_pspec_extreme_floor(p);
    int global = eps > cc_floor;
    if (!global && pure)
        return ptd_error(PTD_EINVAL, "%s: eps = %g is below the 2n eigenproblem's floor 4 n u ||A|| = %.3g, where the "
                                     "pure criss-cross method proves nothing", what, eps, cc_floor);
    cc c;
    int st = cc_init(&c, p, eps, polar);
    if (st) return st;

    double a = 0, b = 0;
    int done = 0;
    if (!global) {
        local_everywhere(&c, &a, &b);
        done = 1;
    } else {
        /* start at the eigenvalue farthest right (or out) */
        const double complex *ev = ptd_pspec_plan_eigenvalues(p);
        size_t top = 0;
        for (size_t i = 1; i < c.n; i++) {
            double v = polar ? cabs(ev[i]) : creal(ev[i]), vt = polar ? cabs(ev[top]) : creal(ev[top]);
            if (v > vt || (v == vt && cimag(ev[i]) > cimag(ev[top]))) top = i;
        }
        double a0 = polar ? cabs(ev[top]) : creal(ev[top]);
        double b0 = polar ? carg(ev[top]) : cimag(ev[top]);
        double s0 = sig(&c, a0, b0, NULL);
        a = a0;
        b = b0;
        if (!c.st && !(s0 < eps)) {
            cc_free(&c);
            return ptd_error(PTD_ENOCONV, "%s: sigma_min = %g at the eigenvalue %g%+gi is not below eps = %g",
                             what, s0, creal(ev[top]), cimag(ev[top]), eps);
        }
        if (!c.st) {
            if (pure) {
                st = global_step(&c, b0, &a);
                if (!st && !isfinite(a)) a = a0;
            } else {
                local_max(&c, a0, b0, s0, &a, &b);
            }
        }
    }
    double tol_g = 64 * PTD_U * (fabs(a) + eps);
    for (unsigned round = 0; round < maxit && !st && !c.st && !done; round++) {
        size_t m = 0;
        if ((st = crossings(&c, a, &m))) break;
        double best = a, bbest = b;
        size_t nint = polar ? m : (m ? m - 1 : 0);
        if (polar && m == 0) nint = 1; /* no crossing: the circle is all inside or all outside */
        for (size_t k = 0; k < nint && !c.st; k++) {
            double lo, hi;
            if (polar && m == 0) {
                lo = b;
                hi = b + 2 * M_PI;
            } else if (polar && k + 1 == m) {
                lo = c.cand[k];
                hi = c.cand[0] + 2 * M_PI;
            } else {
                lo = c.cand[k];
                hi = c.cand[k + 1];
            }
            double mid = 0.5 * (lo + hi), smid;
            if (polar) mid = remainder(mid, 2 * M_PI);
            if (!inside(&c, a, mid, &smid)) continue;
            double an, bn = mid;
            if (pure) {
                if ((st = global_step(&c, mid, &an))) break;
            } else {
                local_max(&c, a, mid, smid, &an, &bn);
            }
            if (an > best) {
                best = an;
                bbest = bn;
            }
        }
        if (best > a + tol_g) {
            a = best;
            b = bbest;
            tol_g = 64 * PTD_U * (fabs(a) + eps);
        } else {
            done = 1;
        }
    }
    if (!st && c.st) st = c.st;
    if (!st && !done)
        st = ptd_error(PTD_ENOCONV, "%s: no convergence in %u global searches (eps = %g)", what, maxit, eps);
    if (st) {
        cc_free(&c);
        return st;
    }
    double e = 0, s = sig(&c, a, b, &e);
    /* Brent stops when its bracket is within about 8 u (|a| + eps): sigma_min, 1-Lipschitz
     * in z and |dz/da| = 1 along both kinds of line, is within that of eps there, beyond its
     * own error e.  The value's error: that bracket plus e over the outward slope. */
    double bracket = 8 * PTD_U * (fabs(a) + eps);
    double h = fmax(eps, 64 * PTD_U * (fabs(a) + eps)), eh = 0, sh = sig(&c, a + h, b, &eh);
    double slope = (sh - s) / h;
    res->value = a;
    res->value_err = slope > 0 ? bracket + 4 * (e + eh) / slope : NAN;
    res->z = zpt(&c, a, b);
    res->sigma = s;
    res->sigma_err = e;
    res->evaluations = c.evals;
    res->eigensolves = c.eigs;
    res->rounds = c.rounds;
    res->certified = global;
    cc_free(&c);
    if (c.st) return c.st;
    if (!(fabs(s - eps) <= 1e-8 * eps + 4 * e + bracket))
        return ptd_error(PTD_ENOCONV, "%s: sigma_min = %.17g at the point found, not eps = %g", what, s, eps);

    size_t v = o && o->verify ? o->verify : 24;
    if (global && v >= 2 && (st = verify_grid(p, eps, polar, a, v, res, what))) return st;
    ptd_clear_error();
    return PTD_OK;
}

double ptd_pspec_extreme_floor(const ptd_pspec_plan *p)
{
    return 4.0 * (double)ptd_pspec_plan_order(p) * PTD_U * ptd_pspec_plan_norm2(p);
}

int ptd_pspec_abscissa(const ptd_pspec_plan *p, double eps, const ptd_pspec_extreme_opts *opts,
                       ptd_pspec_extreme *res)
{
    return extreme(p, eps, opts, 0, res);
}

int ptd_pspec_radius(const ptd_pspec_plan *p, double eps, const ptd_pspec_extreme_opts *opts,
                     ptd_pspec_extreme *res)
{
    return extreme(p, eps, opts, 1, res);
}

/* --- the distance to instability (ptd_pspec_stability_radius) ----------------------------
 * On the line Re z = 0 (a = 0) or the circle |z| = 1 (a = 1, polar), as the searches above;
 * c->eps is the level of each crossings() call. */

static double axis_f(double w, void *ctx)
{
    cc *c = ctx;
    double s = sig(c, c->polar ? 1.0 : 0.0, w, NULL);
    return isnan(s) ? GSL_NAN : s;
}

/* The smallest sigma_min in [lo, hi] near mid, given the three values there (f(mid) below
 * both ends, or the best of the three is kept), by Brent's minimisation; *w and *s get the
 * point and its value. */
static void axis_min(cc *c, gsl_min_fminimizer *m, double lo, double flo, double mid, double fmid, double hi,
                     double fhi, double *w, double *s)
{
    *w = mid;
    *s = fmid;
    if (flo < *s) { *w = lo; *s = flo; }
    if (fhi < *s) { *w = hi; *s = fhi; }
    if (!(fmid < flo && fmid < fhi) || c->st) return;
    gsl_function F = {axis_f, c};
    if (gsl_min_fminimizer_set_with_values(m, &F, mid, fmid, lo, flo, hi, fhi) != GSL_SUCCESS) return;
    double scale = c->polar ? 1.0 : fabs(mid) + 1.0;
    for (int it = 0; it < 200 && !c->st; it++) {
        if (gsl_min_fminimizer_iterate(m) != GSL_SUCCESS) break;
        double a = gsl_min_fminimizer_x_lower(m), b = gsl_min_fminimizer_x_upper(m);
        if (gsl_min_test_interval(a, b, 4 * PTD_U * scale, 4 * PTD_U) == GSL_SUCCESS) break;
    }
    double fm = gsl_min_fminimizer_f_minimum(m);
    if (fm < *s) {
        *s = fm;
        *w = gsl_min_fminimizer_x_minimum(m);
    }
}

/* Below the 2n eigenproblems' floor, on an exact plan: a scan of the axis (circle) and
 * Brent's method from its lowest local minima. */
enum { SCAN_POINTS = 4096, SCAN_REFINE = 8 };

static void axis_scan(cc *c, gsl_min_fminimizer *m, double wmax, ptd_pspec_instability *res)
{
    double lo = c->polar ? -M_PI : -wmax, hi = c->polar ? M_PI : wmax;
    size_t np = SCAN_POINTS;
    double h = (hi - lo) / (double)(np - 1);
    double *sv = malloc(np * sizeof *sv);
    if (!sv) {
        c->st = ptd_error(PTD_ENOMEM, "distance to instability: out of memory");
        return;
    }
    double bound = INFINITY;
    for (size_t j = 0; j < np && !c->st; j++) {
        double e = 0;
        sv[j] = sig(c, c->polar ? 1.0 : 0.0, lo + (double)j * h, &e);
        bound = fmin(bound, sv[j] - e);
    }
    /* the SCAN_REFINE lowest local minima (the ends count on the line; the circle wraps) */
    size_t pick[SCAN_REFINE];
    size_t npick = 0;
    for (size_t j = 0; j < np && !c->st; j++) {
        double l = j ? sv[j - 1] : (c->polar ? sv[np - 2] : INFINITY);
        double r = j + 1 < np ? sv[j + 1] : (c->polar ? sv[1] : INFINITY);
        if (!(sv[j] <= l && sv[j] <= r)) continue;
        size_t k = npick < SCAN_REFINE ? npick++ : SCAN_REFINE;
        if (k == SCAN_REFINE && !(sv[j] < sv[pick[SCAN_REFINE - 1]])) continue;
        if (k == SCAN_REFINE) k = SCAN_REFINE - 1;
        while (k > 0 && sv[pick[k - 1]] > sv[j]) {
            pick[k] = pick[k - 1];
            k--;
        }
        pick[k] = j;
    }
    for (size_t t = 0; t < npick && !c->st; t++) {
        size_t j = pick[t];
        double wj = lo + (double)j * h, w, s;
        /* the neighbours' values as the minima were picked (the ends: one more evaluation) */
        double fl = j ? sv[j - 1] : (c->polar ? sv[np - 2] : axis_f(wj - h, c));
        double fr = j + 1 < np ? sv[j + 1] : (c->polar ? sv[1] : axis_f(wj + h, c));
        axis_min(c, m, wj - h, fl, wj, sv[j], wj + h, fr, &w, &s);
        if (s < res->value) {
            res->value = s;
            res->w = w;
        }
    }
    free(sv);
    /* sigma_min is 1-Lipschitz in z and |dz/dw| = 1 on both curves */
    res->lower = fmax(0.0, bound - 0.5 * h);
    res->certified = 0;
    res->method = c->polar ? "circle scan of the exact Schur form (4096 angles, Brent's method)"
                           : "axis scan of the exact Schur form (4096 points, Brent's method)";
}

int ptd_pspec_stability_radius(const ptd_pspec_plan *p, int discrete, ptd_pspec_instability *res)
{
    ptd_clear_error();
    if (!p || !res) return ptd_error(PTD_EINVAL, "distance to instability: plan or result is NULL");
    memset(res, 0, sizeof *res);
    res->value = res->lower = res->sigma_err = NAN;
    if (ptd_pspec_plan_rows(p) != ptd_pspec_plan_order(p))
        return ptd_error(PTD_EINVAL, "distance to instability: not for a rectangular matrix (%zu x %zu)",
                         ptd_pspec_plan_rows(p), ptd_pspec_plan_order(p));
    size_t n = ptd_pspec_plan_order(p);
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    double top = -INFINITY;
    for (size_t i = 0; i < n; i++) top = fmax(top, discrete ? cabs(ev[i]) : creal(ev[i]));
    if (discrete ? top >= 1 : top >= 0) {
        res->stable = 0;
        res->value = res->lower = res->sigma_err = 0;
        res->certified = 1;
        res->method = discrete ? "unstable: an eigenvalue has |lambda| >= 1" : "unstable: an eigenvalue has Re lambda >= 0";
        return PTD_OK;
    }
    res->stable = 1;
    cc c;
    int st = cc_init(&c, p, 1.0, discrete);
    if (st) return st;
    gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
    if (!m) {
        cc_free(&c);
        return ptd_error(PTD_ENOMEM, "distance to instability: out of memory");
    }
    double a = discrete ? 1.0 : 0.0;
    /* the start: sigma_min at every eigenvalue's frequency (angle) and at 0 (and pi), each
     * distinct one once (LegS: every eigenvalue is real) */
    size_t nstart = n + (discrete ? 2 : 1);
    double *ws = malloc(nstart * sizeof *ws);
    if (!ws) {
        gsl_min_fminimizer_free(m);
        cc_free(&c);
        return ptd_error(PTD_ENOMEM, "distance to instability: out of memory");
    }
    for (size_t i = 0; i < n; i++) ws[i] = discrete ? carg(ev[i]) : cimag(ev[i]);
    ws[n] = 0.0;
    if (discrete) ws[n + 1] = M_PI;
    double best = INFINITY, wbest = 0;
    for (size_t i = 0; i < nstart && !c.st; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = ws[j] == ws[i];
        if (seen) continue;
        double w = ws[i], s = sig(&c, a, w, NULL);
        if (s < best) {
            best = s;
            wbest = w;
        }
    }
    free(ws);
    double cc_floor = ptd_pspec_extreme_floor(p);
    res->value = best;
    res->w = wbest;
    int done = 0, low = !(res->value > cc_floor);
    unsigned maxit = 30;
    double e = 0; /* the error of res->value, at res->w */
    for (unsigned round = 0; round < maxit && !st && !c.st && !low && !done; round++) {
        res->value = sig(&c, a, res->w, &e);
        double L = res->value - (4 * e + 64 * PTD_U * res->value);
        if (!(L > cc_floor)) {
            low = 1; /* the eigenproblems cannot see this level */
            break;
        }
        c.eps = L;
        size_t mcross = 0;
        if ((st = crossings(&c, a, &mcross))) break;
        /* between consecutive crossings sigma_min - L keeps its sign: an interval is below L
         * exactly when its midpoint is (beyond the outermost crossings of the line sigma_min
         * grows like |w|; a circle with no crossing has no interval below L, as the point
         * found is above it) */
        size_t nint = discrete ? mcross : (mcross ? mcross - 1 : 0);
        double nbest = res->value, nw = res->w;
        for (size_t k = 0; k < nint && !c.st; k++) {
            double lo = c.cand[k], hi = k + 1 < mcross ? c.cand[k + 1] : c.cand[0] + 2 * M_PI;
            if (!(hi > lo)) continue;
            double mid = 0.5 * (lo + hi), smid = axis_f(mid, &c);
            if (!(smid < L)) continue;
            double w, s;
            axis_min(&c, m, lo, axis_f(lo, &c), mid, smid, hi, axis_f(hi, &c), &w, &s);
            if (s < nbest) {
                nbest = s;
                nw = discrete ? remainder(w, 2 * M_PI) : w;
            }
        }
        if (nbest < L) {
            res->value = nbest;
            res->w = nw;
            continue;
        }
        /* no interval below L: the distance is at least L */
        res->lower = L;
        res->certified = 1;
        res->method = discrete ? "level sets (symplectic pencil on the unit circle)"
                               : "level sets (Hamiltonian eigenvalues on the imaginary axis)";
        done = 1;
    }
    if (!st && !c.st && !done) {
        if (!low) {
            st = ptd_error(PTD_ENOCONV, "distance to instability: no certificate in %u level sets", maxit);
        } else if (ptd_pspec_plan_exact(p)) {
            /* sigma_min >= |w| - ||A|| on the line: the minimum lies within |w| <= ||A|| + best */
            axis_scan(&c, m, c.nrm + res->value + 1.0, res);
        } else {
            res->lower = 0;
            res->below_floor = 1;
            res->certified = 0;
            res->method = "below the rounding floor n u ||A|| of the computed Schur form";
        }
    }
    if (!st && c.st) st = c.st;
    if (!st) {
        /* a certified value was evaluated, with its error, at the start of the last round;
         * the other paths moved the point since */
        if (!done) res->value = sig(&c, a, res->w, &e);
        res->sigma_err = e;
        if (!ptd_pspec_plan_exact(p) && res->value <= ptd_pspec_plan_floor(p)) res->below_floor = 1;
        if (c.st) st = c.st;
    }
    res->evaluations = c.evals;
    res->eigensolves = c.eigs;
    gsl_min_fminimizer_free(m);
    cc_free(&c);
    if (!st) ptd_clear_error();
    return st;
}

int ptd_pspec_level_crossings(const ptd_pspec_plan *p, double eps, int which, double x, double *out,
                              size_t *count)
{
    ptd_clear_error();
    if (!p || !out || !count) return ptd_error(PTD_EINVAL, "level crossings: NULL argument");
    if (ptd_pspec_plan_rows(p) != ptd_pspec_plan_order(p))
        return ptd_error(PTD_EINVAL, "level crossings: not for a rectangular matrix (%zu x %zu)", ptd_pspec_plan_rows(p),
                         ptd_pspec_plan_order(p));
    if (!(eps > 0) || !isfinite(eps) || !isfinite(x) || (which != 0 && which != 1) || (which == 1 && !(x > 0)))
        return ptd_error(PTD_EINVAL, "level crossings: need eps > 0, finite x (> 0 for a circle), which 0 or 1");
    cc c;
    int st = cc_init(&c, p, eps, which);
    if (st) return st;
    size_t m = 0;
    st = crossings(&c, x, &m);
    if (!st && c.st) st = c.st;
    if (!st) {
        memcpy(out, c.cand, m * sizeof *out);
        *count = m;
    }
    cc_free(&c);
    return st;
}
