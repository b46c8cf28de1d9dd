/* trace.c - the eps-level curves of sigma_min(zI - A) by path following: every component of
 * the eps-pseudospectrum, however small, as a closed polyline, with no grid.
 *
 * Every component of Lambda_eps holds an eigenvalue (docs/mathematics.md section 2), so the
 * search starts from every eigenvalue not yet enclosed: outward along a ray to the level set
 * (doubling, then Brent's method), then along the curve by a predictor (a step along the
 * tangent, i times the unit gradient) and a corrector (Newton on sigma_min = eps along the
 * gradient; the predictor follows the last step's curvature), the step halved when the corrector fails or the normal turns by more than
 * max_turn, grown when it turns little, until the curve comes back to its first vertex.  The
 * gradient d sigma/dx + i d sigma/dy = v^* u comes from the Ritz vector of inverse Lanczos
 * (ptd_pspec_sigma_grad).  A closed curve marks the eigenvalues it winds around as done.
 * A start that leads to another component (the ray left its own and entered another) is
 * recognised by the winding numbers and retried along other rays; an eigenvalue no start
 * reaches is counted as missed, and a curve that does not close is returned open and counted,
 * never dropped. */
#include "config.h"
#include "internal.h"

#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CORRECT_MAXIT = 8, RAY_DOUBLINGS = 200, RAY_TRIES = 4, RAY_POLYGON = 16 };

typedef struct {
    const ptd_pspec_plan *p;
    ptd_pspec_work *w;
    double eps, tol, max_turn;
    size_t max_vertices;
    unsigned long evals;
    int status;               /* the first error of an evaluation (inside Brent's callback) */
    gsl_root_fsolver *solver;
    double complex ray0, raydir;
} tracer;

/* sigma_min, its error and gradient at z; PTD_ENOCONV keeps the best estimate, whose err
 * holds the Lanczos bound. */
static int eval(tracer *t, double complex z, ptd_pspec_point *pt, double complex *g)
{
    t->evals++;
    int st = ptd_pspec_sigma_grad(t->p, t->w, z, NULL, pt, g);
    if (st == PTD_ENOCONV) st = PTD_OK;
    if (st && !t->status) t->status = st;
    return st;
}

/* The vertex tolerance at z, of error estimate err and gradient g: the relative tolerance,
 * the value's error, and how much sigma_min changes when z is rounded (|g| u |z|: about a
 * tiny component far from 0, no point of double precision is nearer the level). */
static double vtol(const tracer *t, double complex z, double err, double complex g)
{
    return fmax(fmax(t->tol * t->eps, 4 * err), 4 * PTD_U * cabs(z) * cabs(g));
}

/* Newton on sigma_min = eps along the gradient from *z: 1 when |sigma - eps| <= vtol,
 * leaving the point, its value and gradient; *its counts the evaluations. */
static int correct(tracer *t, double complex *z, ptd_pspec_point *pt, double complex *g, int *its)
{
    *its = 0;
    for (int k = 0; k <= CORRECT_MAXIT; k++) {
        if (eval(t, *z, pt, g)) return 0;
        (*its)++;
        double d = pt->sigma - t->eps;
        if (fabs(d) <= vtol(t, *z, pt->err, *g)) return 1;
        double gg = creal(*g) * creal(*g) + cimag(*g) * cimag(*g);
        if (!(gg > 0) || k == CORRECT_MAXIT) return 0;
        *z -= d * *g / gg;
    }
    return 0;
}

static double ray_f(double r, void *ctx)
{
    tracer *t = ctx;
    ptd_pspec_point pt;
    double complex g;
    if (eval(t, t->ray0 + r * t->raydir, &pt, &g)) return 0;
    return pt.sigma - t->eps;
}

/* A point of the level set on the ray lam + r d, r > 0: sigma_min(lam + eps d) <= eps (the
 * disc of radius eps lies inside), then r doubles until sigma_min > eps, then Brent between
 * the last two radii, then the corrector.  1 on success. */
static int ray_start(tracer *t, double complex lam, double complex d, double complex *z, ptd_pspec_point *pt,
                     double complex *g)
{
    t->ray0 = lam;
    t->raydir = d;
    double lo = 0, hi = t->eps;
    int found = 0;
    for (int k = 0; k < RAY_DOUBLINGS; k++) {
        double f = ray_f(hi, t);
        if (t->status) return 0;
        if (f > 0) {
            found = 1;
            break;
        }
        lo = hi;
        hi *= 2;
        if (!isfinite(hi)) break;
    }
    if (!found) return 0;
    gsl_function F = {ray_f, t};
    double root = 0.5 * (lo + hi);
    if (gsl_root_fsolver_set(t->solver, &F, lo, hi) == GSL_SUCCESS) {
        for (int it = 0; it < 100; it++) {
            if (gsl_root_fsolver_iterate(t->solver) != GSL_SUCCESS) break;
            root = gsl_root_fsolver_root(t->solver);
            double a = gsl_root_fsolver_x_lower(t->solver), b = gsl_root_fsolver_x_upper(t->solver);
            if (gsl_root_test_interval(a, b, 4 * PTD_U * b, 1e-3 * t->tol) == GSL_SUCCESS) break;
        }
    }
    if (t->status) return 0;
    *z = lam + root * d;
    int its;
    return correct(t, z, pt, g, &its);
}

/* --- curves -------------------------------------------------------------------------------- */

static int push(ptd_pspec_curve *c, size_t *cap, double complex z, const ptd_pspec_point *pt)
{
    if (c->nv == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        double complex *nz = realloc(c->z, nc * sizeof *nz);
        if (nz) c->z = nz;
        double *ns = realloc(c->sigma, nc * sizeof *ns);
        if (ns) c->sigma = ns;
        double *ne = realloc(c->err, nc * sizeof *ne);
        if (ne) c->err = ne;
        if (!nz || !ns || !ne) return 0;
        *cap = nc;
    }
    c->z[c->nv] = z;
    c->sigma[c->nv] = pt->sigma;
    c->err[c->nv] = pt->err;
    c->nv++;
    return 1;
}

/* Distance from q to the segment [a, b] and the parameter of the nearest point. */
static double seg_dist(double complex q, double complex a, double complex b)
{
    double complex ab = b - a;
    double l2 = creal(ab) * creal(ab) + cimag(ab) * cimag(ab);
    double s = l2 > 0 ? creal(conj(ab) * (q - a)) / l2 : 0;
    if (s < 0) s = 0;
    if (s > 1) s = 1;
    return cabs(q - (a + s * ab));
}

/* Follow the curve from its point z0 (value pt0, gradient g0), counter-clockwise about the
 * set (the tangent is i times the outward gradient); `scale` sizes the first step. */
static int follow(tracer *t, double complex z0, const ptd_pspec_point *pt0, double complex g0, double scale,
                  ptd_pspec_curve *c)
{
    size_t cap = 0;
    if (!push(c, &cap, z0, pt0)) return PTD_ENOMEM;
    double complex z = z0, g = g0, tan0 = I * g0 / cabs(g0);
    double h = t->max_turn * scale, len = 0, kappa = 0; /* kappa: signed curvature of the last step */
    double hmin = 16 * PTD_U * (cabs(z0) + scale); /* a few roundings of z */
    c->closed = 0;
    for (;;) {
        if (c->nv >= t->max_vertices) break;
        double complex tan = I * g / cabs(g);
        /* second order: along the arc of the last step's curvature (centre on the left, i tan,
         * for a curve turning counter-clockwise), so that one Newton step mostly suffices */
        double complex zp = z + h * tan + 0.5 * kappa * h * h * (I * tan), gp;
        ptd_pspec_point pp;
        int its;
        int ok = correct(t, &zp, &pp, &gp, &its);
        if (t->status) return t->status;
        double dist = cabs(zp - z);
        double turn = ok && cabs(gp) > 0 ? fabs(carg(gp / g)) : INFINITY;
        if (!ok || turn > t->max_turn || dist > 2 * h || creal(conj(tan) * (zp - z)) < 0.5 * dist) {
            h *= 0.5;
            if (h < hmin) break; /* given up: reported open */
            continue;
        }
        /* closing: the first vertex lies on this chord, the curve running the same way */
        if (c->nv >= 3 && seg_dist(z0, z, zp) <= 0.25 * t->max_turn * dist + 4 * hmin &&
            creal(conj(tan) * tan0) > 0.5 && creal(conj(zp - z) * (z0 - z)) > 0) {
            if (!push(c, &cap, z0, pt0)) return PTD_ENOMEM;
            c->closed = 1;
            break;
        }
        if (!push(c, &cap, zp, &pp)) return PTD_ENOMEM;
        len += dist;
        kappa = carg(gp / g) / dist;
        z = zp;
        g = gp;
        if (turn < t->max_turn / 3 && its <= 2) h = fmin(1.5 * h, 0.05 * (scale + len / (2 * M_PI)));
    }
    return PTD_OK;
}

/* The closed polygon of the level set's points on RAY_POLYGON rays from lam, counter-clockwise
 * (c->rays = 1); open when a ray finds none. */
static int ray_polygon(tracer *t, double complex lam, ptd_pspec_curve *c)
{
    size_t cap = 0;
    c->rays = 1;
    c->closed = 0;
    double complex z0 = 0;
    ptd_pspec_point p0 = {0};
    for (int k = 0; k < RAY_POLYGON; k++) {
        double complex z, g;
        ptd_pspec_point pt;
        double a = 2 * M_PI * k / RAY_POLYGON;
        if (!ray_start(t, lam, CMPLX(cos(a), sin(a)), &z, &pt, &g)) return t->status;
        if (!push(c, &cap, z, &pt)) return PTD_ENOMEM;
        if (k == 0) {
            z0 = z;
            p0 = pt;
        }
    }
    if (!push(c, &cap, z0, &p0)) return PTD_ENOMEM;
    c->closed = 1;
    return PTD_OK;
}

/* The winding number of the closed polyline c about q. */
static long winding(const ptd_pspec_curve *c, double complex q)
{
    double total = 0;
    for (size_t k = 0; k + 1 < c->nv; k++) {
        double complex a = c->z[k] - q, b = c->z[k + 1] - q;
        if (a == 0 || b == 0) continue;
        total += carg(b / a);
    }
    return lround(total / (2 * M_PI));
}

static double shoelace(const ptd_pspec_curve *c)
{
    /* about the first vertex: a small curve far from 0 keeps its digits */
    double a = 0;
    for (size_t k = 0; k + 1 < c->nv; k++) {
        double complex p = c->z[k] - c->z[0], q = c->z[k + 1] - c->z[0];
        a += creal(p) * cimag(q) - creal(q) * cimag(p);
    }
    return 0.5 * a;
}

static void curve_free(ptd_pspec_curve *c)
{
    free(c->z);
    free(c->sigma);
    free(c->err);
    free(c->eig);
    memset(c, 0, sizeof *c);
}

void ptd_pspec_trace_free(ptd_pspec_trace_result *r)
{
    if (!r) return;
    for (size_t k = 0; k < r->ncurves; k++) curve_free(&r->curves[k]);
    free(r->curves);
    free(r);
}

/* the directions tried from lam: across the line to its nearest other eigenvalue first
 * (clusters on a line, as Kahan's, sit along it), then the other way, then away from it and
 * towards it */
static void directions(const double complex *ev, size_t n, size_t i, double complex *dir)
{
    double best = INFINITY;
    double complex u = 1;
    for (size_t j = 0; j < n; j++) {
        double d = cabs(ev[j] - ev[i]);
        if (j != i && d > 0 && d < best) {
            best = d;
            u = (ev[i] - ev[j]) / d;
        }
    }
    dir[0] = I * u;
    dir[1] = -I * u;
    dir[2] = u;
    dir[3] = -u;
}

int ptd_pspec_trace(const ptd_pspec_plan *p, double eps, const ptd_pspec_trace_opts *opts,
                    ptd_pspec_trace_result **out)
{
    ptd_clear_error();
    if (!p || !out) return ptd_error(PTD_EINVAL, "ptd_pspec_trace: plan or result is NULL");
    *out = NULL;
    if (ptd_pspec_plan_rows(p) != ptd_pspec_plan_order(p))
        return ptd_error(PTD_EINVAL, "ptd_pspec_trace: not for a rectangular matrix (%zu x %zu)", ptd_pspec_plan_rows(p),
                         ptd_pspec_plan_order(p));
    if (!(eps > 0) || !isfinite(eps) || eps <= ptd_pspec_plan_floor(p))
        return ptd_error(PTD_EINVAL, "ptd_pspec_trace: eps = %g; want a finite eps above the rounding floor %.3g",
                         eps, ptd_pspec_plan_floor(p));
    ptd_pspec_trace_opts o = opts ? *opts : (ptd_pspec_trace_opts){0};
    if (o.max_vertices == 0) o.max_vertices = 20000;
    if (o.max_turn == 0) o.max_turn = 0.03;
    if (o.tol == 0) o.tol = 1e-10;
    if (!(o.max_turn > 0 && o.max_turn <= 1) || !(o.tol > 0 && o.tol < 1) || o.max_vertices < 8)
        return ptd_error(PTD_EINVAL, "ptd_pspec_trace: max_turn must be in (0, 1], tol in (0, 1), max_vertices >= 8");
    double t0 = ptdi_now();
    size_t n = ptd_pspec_plan_order(p);
    const double complex *ev = ptd_pspec_plan_eigenvalues(p);
    tracer t = {.p = p, .eps = eps, .tol = o.tol, .max_turn = o.max_turn, .max_vertices = o.max_vertices};
    ptd_pspec_trace_result *r = calloc(1, sizeof *r);
    unsigned char *done = calloc(n, 1);
    t.w = ptd_pspec_work_alloc(p);
    t.solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    size_t cap = 0;
    int st = PTD_OK;
    if (!r || !done || !t.w || !t.solver) {
        st = ptd_error(PTD_ENOMEM, "ptd_pspec_trace: out of memory (n = %zu)", n);
        goto out;
    }
    r->eps = eps;
    r->tol = o.tol;
    for (size_t i = 0; i < n && !st; i++) {
        if (done[i] || (o.starts && !o.starts[i])) continue;
        double complex dir[RAY_TRIES];
        directions(ev, n, i, dir);
        for (int tr = 0; tr < RAY_TRIES && !done[i]; tr++) {
            double complex z, g;
            ptd_pspec_point pt;
            if (!ray_start(&t, ev[i], dir[tr], &z, &pt, &g)) {
                if (t.status) {
                    st = t.status; /* the evaluation's own message */
                    break;
                }
                continue;
            }
            if (r->ncurves == cap) {
                size_t nc = cap ? 2 * cap : 8;
                ptd_pspec_curve *cc = realloc(r->curves, nc * sizeof *cc);
                if (!cc) {
                    st = ptd_error(PTD_ENOMEM, "ptd_pspec_trace: out of memory");
                    break;
                }
                r->curves = cc;
                cap = nc;
            }
            ptd_pspec_curve *c = &r->curves[r->ncurves];
            memset(c, 0, sizeof *c);
            c->start = i;
            /* a component a few hundred roundings of z across cannot be followed in double
             * precision coordinates: the polygon of its points on RAY_POLYGON rays instead */
            if (o.max_turn * cabs(z - ev[i]) < 256 * PTD_U * cabs(ev[i])) st = ray_polygon(&t, ev[i], c);
            else st = follow(&t, z, &pt, g, cabs(z - ev[i]), c);
            if (st) {
                curve_free(c);
                if (st == PTD_ENOMEM) st = ptd_error(st, "ptd_pspec_trace: out of memory");
                break;
            }
            if (!c->closed) {
                /* kept, open, and counted; this start is not tried again */
                r->ncurves++;
                r->unclosed++;
                break;
            }
            c->area = shoelace(c);
            c->hole = c->area < 0;
            /* the eigenvalues it winds about; a curve about an eigenvalue already done
             * repeats a traced component (the ray crossed into it) */
            size_t m = 0, repeat = 0;
            c->eig = malloc(n * sizeof *c->eig);
            if (!c->eig) {
                curve_free(c);
                st = ptd_error(PTD_ENOMEM, "ptd_pspec_trace: out of memory");
                break;
            }
            for (size_t j = 0; j < n; j++)
                if (!c->hole && winding(c, ev[j]) != 0) {
                    c->eig[m++] = j;
                    if (done[j]) repeat = 1;
                }
            if (repeat) {
                curve_free(c);
                continue;
            }
            c->neig = m;
            for (size_t j = 0; j < m; j++) done[c->eig[j]] = 1;
            c->rmin = INFINITY;
            for (size_t k = 0; k < c->nv; k++) {
                double d = cabs(c->z[k] - ev[i]);
                c->rmin = fmin(c->rmin, d);
                c->rmax = fmax(c->rmax, d);
            }
            c->radius = 0.5 * (c->rmin + c->rmax);
            c->near_disc = m == 1 && c->rmax <= 1.1 * c->rmin;
            r->ncurves++;
            if (!c->hole) r->components++;
        }
    }
    for (size_t i = 0; i < n; i++) r->missed += !done[i] && !(o.starts && !o.starts[i]);
out:
    if (t.solver) gsl_root_fsolver_free(t.solver);
    ptd_pspec_work_free(t.w);
    free(done);
    if (st) {
        ptd_pspec_trace_free(r);
        return st;
    }
    r->evaluations = t.evals;
    r->seconds = ptdi_now() - t0;
    *out = r;
    return PTD_OK;
}
