/* bench_trace - level-curve tracing (ptd_pspec_trace) against grids.
 *
 * [1] sigma_min evaluations for one eps: the trace's own count (ray searches, predictor and
 *     corrector steps) against a grid of the same resolution along the curve: spacing h = the
 *     traced curves' mean vertex spacing, over the smallest box that holds the traced curves
 *     (a grid must cover at least that to draw them), (W/h + 1)(H/h + 1) points, one
 *     evaluation each.  Target (issue 14): >= 20x fewer for grcar n = 100 and hippo-legs
 *     n = 64, at the default max_turn (0.03 rad between vertices); repeated at 0.1 rad, since
 *     the ratio grows with the number of vertices (about N / (evaluations per vertex) times
 *     the box's area over the squared length).
 * [2] wall and CPU time of the README's pspec figures (the gnuplot script to /dev/null, so
 *     gnuplot's rendering is not timed) with --trace against the default grid, best of 2.
 *     No target: the ratios are reported.
 * Ratios come from one run; nothing is compared with stored numbers. */
#define BENCH_NAME "bench_trace"
#include "machine.h"

#include <complex.h>
#include <sys/resource.h>
#include <sys/wait.h>

typedef struct {
    const char *name;
    size_t n;
    double eps;
    int target;   /* 1: the target applies */
} tcase;

static void section1(double max_turn)
{
    static const tcase cases[] = {
        {"grcar", 100, 1e-1, 1}, {"grcar", 100, 1e-2, 1}, {"grcar", 100, 1e-3, 1}, {"grcar", 100, 1e-4, 1},
        {"hippo-legs", 64, 1e-2, 1}, {"hippo-legs", 64, 1e-4, 1}, {"hippo-legs", 64, 1e-8, 1},
        {"kahan", 40, 1e-8, 0},
    };
    printf("\n[1] sigma_min evaluations, one eps: traced against a grid of the same resolution along the curve\n"
           "    (max_turn %g rad%s)\n", max_turn > 0 ? max_turn : 0.03, max_turn > 0 ? "" : ", the default");
    printf("    %-16s %-6s %5s %7s %8s %9s %11s %10s %9s %7s\n", "case", "eps", "comp", "vertex", "traced", "evals/v",
           "spacing h", "box pts", "ratio", "");
    double worst[2] = {INFINITY, INFINITY};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const tcase *k = &cases[c];
        ptd_system *s = NULL;
        check_call(ptd_zoo_make(k->name, k->n, 1, &s), k->name);
        ptd_pspec_plan *p = NULL;
        check_call(ptd_pspec_plan_create(s->A, &p), "plan");
        ptd_pspec_trace_result *r = NULL;
        ptd_pspec_trace_opts o = {.max_turn = max_turn};
        check_call(ptd_pspec_trace(p, k->eps, &o, &r), "trace");
        double len = 0, x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        size_t segs = 0, nv = 0;
        for (size_t q = 0; q < r->ncurves; q++) {
            const ptd_pspec_curve *cv = &r->curves[q];
            nv += cv->nv;
            for (size_t i = 0; i < cv->nv; i++) {
                double complex z = cv->z[i];
                x0 = fmin(x0, creal(z));
                x1 = fmax(x1, creal(z));
                y0 = fmin(y0, cimag(z));
                y1 = fmax(y1, cimag(z));
                if (i) {
                    len += cabs(z - cv->z[i - 1]);
                    segs++;
                }
            }
        }
        double h = len / (double)segs;
        double gpts = (floor((x1 - x0) / h) + 1) * (floor((y1 - y0) / h) + 1);
        double ratio = gpts / (double)r->evaluations;
        char nm[32];
        snprintf(nm, sizeof nm, "%s n=%zu", k->name, k->n);
        printf("    %-16s %-6.0e %5zu %7zu %8lu %9.2f %11.3g %10.3g %8.1fx %s\n", nm, k->eps, r->components, nv,
               r->evaluations, (double)r->evaluations / (double)nv, h, gpts, ratio,
               r->unclosed || r->missed ? "(OPEN/MISSED)" : "");
        if (k->target) {
            int g = strcmp(k->name, "grcar") == 0 ? 0 : 1;
            worst[g] = fmin(worst[g], ratio);
        }
        ptd_pspec_trace_free(r);
        ptd_pspec_plan_free(p);
        ptd_system_free(s);
    }
    printf("    %s >= 20x fewer: grcar n=100 (worst eps) %.1fx %s; hippo-legs n=64 (worst eps) %.1fx %s\n", max_turn > 0 ? "(not the target's setting)" : "target",
           worst[0], verdict(worst[0] >= 20), worst[1], verdict(worst[1] >= 20));
}

/* one pspec run: wall time, and the CPU time of the child */
static double run_pspec(const char *pspec, const char *args, double *cpu)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s -o /dev/null --quiet", pspec, args);
    struct rusage a, b;
    getrusage(RUSAGE_CHILDREN, &a);
    double t0 = now();
    int rc = system(cmd);
    double t = now() - t0;
    getrusage(RUSAGE_CHILDREN, &b);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) fail("%s failed (status %d)", cmd, rc);
    *cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) + 1e-6 * (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) +
           (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) + 1e-6 * (double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec);
    return t;
}

static void section2(void)
{
    const char *pspec = getenv("PSPEC");
    if (!pspec) pspec = "bin/pspec";
    static const char *const figs[] = {
        "hippo-legs -n 64 -eps 1e-4",
        "hippo-legs -n 64 -eps 1e-2,1e-4,1e-6,1e-8,1e-10,1e-12,1e-14,1e-16",
        "grcar -n 100 -eps 1e-1,1e-2,1e-3,1e-4",
        "kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8",
    };
    printf("\n[2] the README's figures: pspec ARGS -o /dev/null (the script), best of 2, wall (CPU) seconds\n");
    printf("    %-68s %16s %16s %14s\n", "ARGS", "grid (default)", "--trace", "grid / trace");
    for (size_t f = 0; f < sizeof figs / sizeof figs[0]; f++) {
        double wg = INFINITY, cg = INFINITY, wt = INFINITY, ct = INFINITY, c;
        char targs[512];
        snprintf(targs, sizeof targs, "%s --trace", figs[f]);
        for (int rep = 0; rep < 2; rep++) {
            double w = run_pspec(pspec, figs[f], &c);
            if (w < wg) { wg = w; cg = c; }
            w = run_pspec(pspec, targs, &c);
            if (w < wt) { wt = w; ct = c; }
        }
        printf("    %-68s %6.2f (%6.2f) %6.2f (%6.2f) %5.2fx (%4.2fx) INFO\n", figs[f], wg, cg, wt, ct, wg / wt, cg / ct);
    }
    printf("    (the default figure computes the grid and traces the components it misses; --trace only traces)\n");
}

int main(int argc, char **argv)
{
    int run1 = argc < 2, run2 = argc < 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "1") == 0) run1 = 1;
        else if (strcmp(argv[i], "2") == 0) run2 = 1;
    }
    ptd_init();
    printf("bench_trace: level-curve tracing against grids (ptdkit %s)\n", ptd_version());
    bench_capacity("start", 3);
    if (run1) {
        section1(0);
        /* the ratio grows with the vertex count: coarser curves (fewer vertices) show it */
        section1(0.1);
    }
    if (run2) section2();
    bench_capacity("end", 3);
    return 0;
}
