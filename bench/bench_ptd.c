/* bench_ptd - the targets of the optimised PTD (issue 10), measured in one run against the
 * published perturbations of HiPPO-LegS (Yu, Mahoney and Erichson 2024; docs/mathematics.md
 * section 9):
 *   [1] n = 32: kappa_2(V) <= 8.3 at ||E||/||A|| <= 3.8 % (published 8.31 at 3.79 %) in 20 s,
 *       n = 64: <= 9.2 at <= 3.4 % (9.17 at 3.41 %) in 60 s, n = 128: <= 8.0 at <= 3.2 %
 *       (8.01 at 3.23 %, one eigenvalue at Re +3.4) in 10 min; every Re lambda(A + E) < 0 and
 *       nothing reflected; each for a complex and a real E, one thread (CPU seconds);
 *   [2] reproducible: over 5 seeds and the OpenBLAS kernels this processor runs
 *       (OPENBLAS_CORETYPE, each run a child process), the worst kappa within 15 % of the best
 *       (n = 32 and 64, complex and real E);
 *   [3] the strong transfer-function error of tf-sweep's optimised PTD (normalised B and C) at
 *       least 10x below S4D's at n = 8 .. 128 (complex and real E);
 *   [4] the authors' method (Adam on kappa_2 under the size) at the n = 32 target, for the
 *       record; [5] random PTD: the median kappa falls like 1/eps (slope -1 +- 0.25).
 * Prints PASS / MISS per target; exits 1 only when a library call or a child fails.
 * `bench_ptd --one N REL REAL SEED` is the child of [2]. */
#define _GNU_SOURCE
#include "ptd.h"
#define BENCH_NAME "bench_ptd"
#include "machine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static ptd_system *legs(size_t n)
{
    ptd_system *s = NULL;
    check_call(ptd_zoo_make("hippo-legs", n, 0, &s), "hippo-legs");
    return s;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double kappa, rel, maxre, cpu, wall;
    size_t reflected;
    unsigned steps;
} run_result;

static run_result run(size_t n, double rel, int real, unsigned long seed, ptd_perturb_optimizer opt, unsigned starts)
{
    ptd_system *s = legs(n);
    ptd_perturb_opts o = {.optimizer = opt, .max_rel = rel, .seed = seed, .real = real, .starts = starts};
    ptd_ptd *p = NULL;
    double c0 = cpu_now(), t0 = now();
    check_call(ptd_perturb_optimize(s->A, s->B, NULL, &o, &p), "ptd_perturb_optimize");
    run_result r = {p->kappa_V, p->rel_E, -INFINITY, cpu_now() - c0, now() - t0, p->reflected, p->steps};
    for (size_t i = 0; i < n; i++) r.maxre = fmax(r.maxre, creal(p->lambda[i]));
    ptd_ptd_free(p);
    ptd_system_free(s);
    return r;
}

/* [2]'s child: one run, one line */
static int one(char **argv)
{
    run_result r = run((size_t)atol(argv[2]), atof(argv[3]), atoi(argv[4]), strtoul(argv[5], NULL, 10), PTD_OPT_LBFGS, 0);
    printf("result %.17g %.17g %.17g %zu %.3f\n", r.kappa, r.rel, r.maxre, r.reflected, r.cpu);
    return 0;
}

/* A child under kernel `core`: 1 with its kappa, 0 when the processor or this OpenBLAS
 * cannot run the kernel (a signal, or OpenBLAS reporting another core). */
static int child(const char *self, const char *core, size_t n, double rel, int real, unsigned long seed, double *kappa)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "OPENBLAS_VERBOSE=2 OPENBLAS_CORETYPE=%s '%s' --one %zu %.17g %d %lu 2>&1", core, self, n,
             rel, real, seed);
    FILE *f = popen(cmd, "r");
    if (!f) fail("popen: %s", cmd);
    char line[512];
    int core_ok = 0, got = 0;
    while (fgets(line, sizeof line, f)) {
        char c[64];
        if (sscanf(line, "Core: %63s", c) == 1) core_ok = strcmp(c, core) == 0;
        if (sscanf(line, "result %lf", kappa) == 1) got = 1;
    }
    int status = pclose(f);
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 128 + 4)) return 0; /* SIGILL */
    if (!core_ok) return 0;
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("child failed: %s", cmd);
    return 1;
}

int main(int argc, char **argv)
{
    ptd_init();
    if (argc == 6 && strcmp(argv[1], "--one") == 0) return one(argv);
    double t_start = now();
    printf("bench_ptd: libptd %s\n", ptd_version());
    bench_capacity("start", 1);
    int miss = 0;

    /* [1] the targets */
    const size_t ns[3] = {32, 64, 128};
    const double rels[3] = {0.038, 0.034, 0.032}, kmax[3] = {8.3, 9.2, 8.0}, tmax[3] = {20, 60, 600};
    const char *published[3] = {"8.31 at 3.79 %", "9.17 at 3.41 %", "8.01 at 3.23 %, one Re lambda = +3.4"};
    printf("[1] optimised PTD of LegS (default method, seed 1, one thread; time: CPU seconds, wall beside)\n");
    for (int k = 0; k < 3; k++)
        for (int real = 0; real <= 1; real++) {
            /* the default (PTD_PERTURB_STARTS); n = 128: its local minima differ by 10 %
             * (7.9 .. 8.4 from single starts), and the 10 minutes pay for 4 starts */
            unsigned starts = ns[k] >= 128 ? 4 : 0;
            run_result r = run(ns[k], rels[k], real, 1, PTD_OPT_LBFGS, starts);
            int ok = r.kappa <= kmax[k] && r.rel <= rels[k] && r.maxre < 0 && r.reflected == 0 && r.cpu <= tmax[k];
            miss += !ok;
            printf("  n = %3zu %-7s E: kappa_2(V) %.3f at ||E||/||A|| %.4f %%, max Re lambda %.3f, %zu reflected, "
                   "%u iterations, %u start(s), %.1f s (wall %.1f s); target <= %g at <= %.1f %% in %g s (published %s) %s\n",
                   ns[k], real ? "real" : "complex", r.kappa, 100 * r.rel, r.maxre, r.reflected, r.steps, starts ? starts : PTD_PERTURB_STARTS, r.cpu, r.wall,
                   kmax[k], 100 * rels[k], tmax[k], published[k], verdict(ok));
            fflush(stdout);
        }

    /* [2] seeds x kernels */
    char self[1024];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) fail("readlink /proc/self/exe");
    self[sl] = '\0';
    const char *cores[] = {"Prescott", "Nehalem", "Sandybridge", "Haswell", "Zen", "SkylakeX"};
    printf("[2] spread over seeds 1..5 and the OpenBLAS kernels (each a child process)\n");
    for (int k = 0; k < 2; k++)
        for (int real = 0; real <= 1; real++) {
            double kap[30], lo = INFINITY, hi = 0;
            size_t m = 0;
            char ran[256] = "";
            for (size_t c = 0; c < sizeof cores / sizeof cores[0]; c++) {
                int runs = 1;
                for (unsigned long seed = 1; seed <= 5 && runs; seed++) {
                    double x;
                    runs = child(self, cores[c], ns[k], rels[k], real, seed, &x);
                    if (!runs) break;
                    kap[m++] = x;
                    lo = fmin(lo, x), hi = fmax(hi, x);
                }
                if (runs) strcat(strcat(ran, " "), cores[c]);
            }
            if (m == 0) fail("no kernel ran");
            qsort(kap, m, sizeof kap[0], cmp);
            int ok = hi <= 1.15 * lo;
            miss += !ok;
            printf("  n = %3zu %-7s E at %.1f %%: %zu runs (kernels:%s): kappa %.3f .. %.3f (median %.3f), worst/best "
                   "%.3f; target <= 1.15 %s\n",
                   ns[k], real ? "real" : "complex", 100 * rels[k], m, ran, lo, hi, kap[m / 2], hi / lo, verdict(ok));
            fflush(stdout);
        }

    /* [3] strong transfer-function errors, through tf-sweep */
    const char *tf = getenv("TF_SWEEP");
    printf("[3] strong errors, tf-sweep hippo-legs --mode errors --normalize --sizes 8:128 --models s4d,ptd "
           "(eps 0.01)\n");
    if (!tf || !*tf) {
        printf("  TF_SWEEP not set (make bench sets it): skipped INFO\n");
    } else
        for (int real = 0; real <= 1; real++) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=1 '%s' hippo-legs --mode errors --normalize --sizes 8:128 "
                                      "--models s4d,ptd%s --format tsv --quiet",
                     tf, real ? " --real" : "");
            FILE *f = popen(cmd, "r");
            if (!f) fail("popen %s", cmd);
            char line[4096];
            int cn = -1, cs = -1, cp = -1, rows = 0, ok = 1;
            double worst = INFINITY;
            while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "# columns:", 10) == 0) {
                    int c = 0;
                    for (char *save = NULL, *t = strtok_r(line + 10, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), c++) {
                        if (strcmp(t, "n") == 0) cn = c;
                        if (strcmp(t, "strong_s4d") == 0) cs = c;
                        if (strcmp(t, "strong_ptd") == 0) cp = c;
                    }
                    continue;
                }
                if (line[0] == '#' || cn < 0 || cs < 0 || cp < 0) continue;
                double v[32];
                int c = 0;
                for (char *save = NULL, *t = strtok_r(line, " \t\n", &save); t && c < 32; t = strtok_r(NULL, " \t\n", &save))
                    v[c++] = atof(t);
                if (c <= cn || c <= cs || c <= cp) continue;
                double ratio = v[cs] / v[cp];
                worst = fmin(worst, ratio);
                ok &= ratio >= 10;
                rows++;
                printf("  n = %3.0f %-7s E: S4D %.4g, PTD %.4g: %.0fx\n", v[cn], real ? "real" : "complex", v[cs], v[cp],
                       ratio);
            }
            if (pclose(f) != 0 || rows != 5) fail("%s: exit status or %d rows (5 expected)", cmd, rows);
            miss += !ok;
            printf("  %s E: the smallest ratio S4D / PTD %.0fx; target >= 10x at every n %s\n", real ? "real" : "complex",
                   worst, verdict(ok));
            fflush(stdout);
        }

    /* [4] the authors' method at the n = 32 target */
    {
        run_result r = run(32, 0.038, 0, 1, PTD_OPT_ADAM, 1);
        printf("[4] Adam (3000 steps) on kappa_2 under the size, n = 32 at 3.8 %%: kappa %.3f, %zu reflected, %.1f s INFO\n",
               r.kappa, r.reflected, r.cpu);
    }

    /* [5] random PTD: slope of the median kappa over 1e-6..1e-1 */
    {
        ptd_system *s = legs(32);
        const int K = 6, T = 11;
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        printf("[5] random PTD of LegS n=32, %d trials per size:\n", T);
        for (int k = 0; k < K; k++) {
            double eps = pow(10.0, -6.0 + 5.0 * k / (K - 1)), kap[11];
            for (int t = 0; t < T; t++) {
                ptd_ptd *p = NULL;
                check_call(ptd_perturb_random(s->A, s->B, NULL, eps, (unsigned long)(100 + t), &p), "random");
                kap[t] = p->kappa_V;
                ptd_ptd_free(p);
            }
            qsort(kap, T, sizeof kap[0], cmp);
            double lx = log10(eps), ly = log10(kap[T / 2]);
            sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
            printf("  ||E||/||A|| %.0e: median kappa %.3g [%.3g, %.3g]\n", eps, kap[T / 2], kap[0], kap[T - 1]);
        }
        double slope = (K * sxy - sx * sy) / (K * sxx - sx * sx);
        int ok = fabs(slope + 1) <= 0.25;
        miss += !ok;
        printf("  log-log slope of the median kappa %.3f; target -1 +- 0.25 %s\n", slope, verdict(ok));
        ptd_system_free(s);
    }
    bench_capacity("end", 1);
    printf("bench_ptd: %d target(s) missed, %.0f s\n", miss, now() - t_start);
    return 0;
}
