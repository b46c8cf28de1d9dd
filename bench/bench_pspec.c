/* bench_pspec.c - the pspec performance targets, measured in one run.
 *
 * Every ratio is between two measurements made here, in this process, on this machine:
 * nothing is compared with stored numbers.  Each timing is the minimum wall time over
 * REPS repetitions (clock_gettime, CLOCK_MONOTONIC), around the whole library call, so
 * workspace allocation is counted as a caller would see it.  Lines end in PASS or MISS
 * when the issue states a target for them, INFO otherwise.  Exit status: 0 whatever the
 * verdicts (this is a report), 1 when a library call or the pspec tool fails.
 *
 * Run it as `make bench` (which sets PSPEC to the built bin/pspec); see bench/README. */
#include "config.h"

#include "ptd.h"
#define BENCH_NAME "bench_pspec"
#include "machine.h"

#include <complex.h>
#include <errno.h>
#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS's own queries (libptd links OpenBLAS); declared here rather than through its
 * cblas.h, which would clash with GSL's CBLAS declarations elsewhere in the build. */
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);

enum { REPS = 3 };

static void check(int st, const char *what) { check_call(st, what); }

/* --- library measurements ---------------------------------------------------------------- */

typedef struct {
    ptd_system *sys;
    ptd_pspec_plan *plan;
    double plan_seconds;
} bench_matrix;

static bench_matrix make_matrix(const char *name, size_t n)
{
    bench_matrix m = {NULL, NULL, 0};
    char what[96];
    snprintf(what, sizeof what, "%s n=%zu: building the matrix", name, n);
    check(ptd_zoo_make(name, n, 1, &m.sys), what);
    snprintf(what, sizeof what, "%s n=%zu: making the plan", name, n);
    double t0 = now();
    check(ptd_pspec_plan_create(m.sys->A, &m.plan), what);
    m.plan_seconds = now() - t0;
    return m;
}

static void free_matrix(bench_matrix *m)
{
    ptd_pspec_plan_free(m->plan);
    ptd_system_free(m->sys);
}

typedef struct {
    double seconds;      /* best (minimum) wall time over the repetitions */
    double cpu;          /* the calling thread's CPU time in that run (1 thread: the grid's) */
    double per_point;    /* seconds / points */
    double mean_iter;    /* mean Lanczos steps per point (0 for SVD) */
    unsigned max_iter;
    size_t unconverged;
    size_t points;
    int threads;
} grid_time;

/* Best of `reps` runs of ptd_pspec_grid_compute.  The iteration statistics do not depend on
 * the run (the start vector is fixed), so the last run's are kept. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static grid_time time_grid(const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny,
                           ptd_pspec_method method, int threads, int reps, const char *what)
{
    grid_time r = {INFINITY, INFINITY, 0, 0, 0, 0, nx * ny, threads};
    ptd_pspec_opts o = {.method = method, .threads = threads};
    for (int k = 0; k < reps; k++) {
        ptd_pspec_grid *g = NULL;
        double t0 = now(), c0 = thread_cpu();
        check(ptd_pspec_grid_compute(p, box, nx, ny, &o, &g), what);
        double t = now() - t0, c = thread_cpu() - c0;
        if (t < r.seconds) r.seconds = t;
        if (c < r.cpu) r.cpu = c;
        r.mean_iter = (double)g->iterations / (double)(nx * ny);
        r.max_iter = g->max_iterations;
        r.unconverged = g->unconverged;
        r.threads = g->threads;
        ptd_pspec_grid_free(g);
    }
    r.per_point = r.seconds / (double)r.points;
    return r;
}

static ptd_box auto_box(const ptd_pspec_plan *p, double eps, size_t nx, size_t ny, double *secs,
                        const char *what)
{
    ptd_box b;
    ptd_pspec_opts o = {.method = PTD_PSPEC_LANCZOS, .threads = 0};
    double t0 = now();
    check(ptd_pspec_auto_box(p, &eps, 1, nx, ny, &o, &b), what);
    *secs = now() - t0;
    return b;
}

static void print_box(const char *label, const ptd_box *b)
{
    printf("  %s [%.4g, %.4g] x [%.4g, %.4g]\n", label, b->xmin, b->xmax, b->ymin, b->ymax);
}

static void print_grid_line(const char *label, const grid_time *t)
{
    printf("  %-26s %8.3f s  %9.2f us/point  (%zu points, %d thread%s", label, t->seconds,
           1e6 * t->per_point, t->points, t->threads, t->threads == 1 ? "" : "s");
    if (t->mean_iter > 0)
        printf(", %.2f Lanczos steps/point, max %u, %zu unconverged", t->mean_iter, t->max_iter,
               t->unconverged);
    printf(")\n");
}

/* --- end to end: the pspec tool ---------------------------------------------------------- */

/* Run argv with stdout and stderr on /dev/null; wall seconds, or fail on a nonzero exit. */
static double run_tool(char *const argv[])
{
    fflush(stdout); /* or the child's freopen would write our buffered report again */
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail("waitpid: %s", strerror(errno));
    double t = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_pspec: failed (%s %d):", WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        for (size_t k = 0; argv[k]; k++) fprintf(stderr, " %s", argv[k]);
        fputc('\n', stderr);
        exit(1);
    }
    return t;
}

static int is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* gnuplot as the pspec tool finds it: $PTD_GNUPLOT, else "gnuplot" on PATH. */
static int have_gnuplot(void)
{
    const char *env = getenv("PTD_GNUPLOT");
    const char *name = env && *env ? env : "gnuplot";
    if (strchr(name, '/')) return is_executable(name);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    char cand[4096];
    for (;;) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(cand, sizeof cand, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", name);
        if (is_executable(cand)) return 1;
        if (!colon) return 0;
        path = colon + 1;
    }
}

static double best_of_tool(char *const argv[], int reps)
{
    double best = INFINITY;
    for (int k = 0; k < reps; k++) {
        double t = run_tool(argv);
        if (t < best) best = t;
    }
    return best;
}

static void capacity(const char *when) { bench_capacity(when, REPS); }

/* --- issue 13: many shifts per triangular solve ---------------------------------------------- */

/* The zgemm rate on one thread, in flop/s (8 m n k flops): C += A B with m = n = k = 1024,
 * best of REPS. */
static double zgemm_rate(void)
{
    const int m = 1024;
    double complex *A = malloc((size_t)m * m * sizeof *A), *B = malloc((size_t)m * m * sizeof *B),
                   *C = malloc((size_t)m * m * sizeof *C);
    if (!A || !B || !C) fail("out of memory (zgemm rate)");
    for (size_t k = 0; k < (size_t)m * m; k++) {
        A[k] = CMPLX(sin((double)k), cos(0.5 * (double)k));
        B[k] = CMPLX(cos((double)k), 0.25);
        C[k] = 0;
    }
    int old = openblas_get_num_threads();
    openblas_set_num_threads(1);
    const double complex one = 1;
    double best = INFINITY;
    for (int r = 0; r < REPS; r++) {
        double t0 = thread_cpu();
        cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, m, m, &one, A, m, B, m, &one, C, m);
        best = fmin(best, thread_cpu() - t0);
    }
    openblas_set_num_threads(old);
    free(A);
    free(B);
    free(C);
    return 8.0 * m * m * (double)m / best;
}

/* The region of each case: where the pseudospectra of interest are (Grcar's usual view, the
 * unit disc and beyond for Ginibre, LegS's spectrum -1..-n and its 1e-4 level set). */
static ptd_box case_box(const char *name, size_t n)
{
    if (strcmp(name, "grcar") == 0) return (ptd_box){-1, 3, -3.5, 3.5};
    if (strcmp(name, "ginibre") == 0) return (ptd_box){-1.5, 1.5, -1.5, 1.5};
    double m = (double)n;
    return (ptd_box){-4.4 * m, 0.25 * m, -2.4 * m, 2.4 * m};
}

static void multishift_section(void)
{
    printf("\n[7] multi-shift (default) against one-shift (--method lanczos-single), per grid point, 1 thread;\n"
           "    CPU time of the calling thread; the zgemm bound: the multi-shift grid's Lanczos steps x 8 n^2 flops\n"
           "    (two triangular solves) at the zgemm rate measured here\n");
    double rate = zgemm_rate();
    printf("  zgemm rate (1 thread, 1024 x 1024 x 1024): %.1f GFLOP/s\n", 1e-9 * rate);
    const char *names[3] = {"grcar", "ginibre", "hippo-legs"};
    const size_t ns[4] = {64, 256, 1024, 2048}, gs[4] = {60, 36, 20, 12};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 4; k++) {
            size_t n = ns[k], g = gs[k];
            int reps = n <= 256 ? REPS : 1;
            bench_matrix m = make_matrix(names[c], n);
            ptd_box box = case_box(names[c], n);
            printf("  %s n=%zu: %zux%zu over [%g, %g] x [%g, %g], plan %.2f s%s\n", names[c], n, g, g, box.xmin,
                   box.xmax, box.ymin, box.ymax, m.plan_seconds,
                   ptd_pspec_plan_exact(m.plan) ? " (exact: triangular)" : "");
            grid_time ms = time_grid(m.plan, &box, g, g, PTD_PSPEC_LANCZOS, 1, reps, "multi-shift grid");
            grid_time os = time_grid(m.plan, &box, g, g, PTD_PSPEC_LANCZOS_SINGLE, 1, reps, "one-shift grid");
            double pm = ms.cpu / (double)ms.points, po = os.cpu / (double)os.points;
            double bound = ms.mean_iter * 8.0 * (double)n * (double)n / rate;
            printf("    multi-shift %10.3f ms/point (wall %.3f), %.2f Lanczos steps/point, max %u\n", 1e3 * pm,
                   1e3 * ms.per_point, ms.mean_iter, ms.max_iter);
            printf("    one-shift   %10.3f ms/point (wall %.3f), %.2f Lanczos steps/point, max %u\n", 1e3 * po,
                   1e3 * os.per_point, os.mean_iter, os.max_iter);
            printf("    zgemm bound %10.3f ms/point\n", 1e3 * bound);
            if (n >= 512)
                printf("%s n=%zu: multi-shift %.2fx faster than one-shift per point; target >= 2.5x (n >= 512) %s\n",
                       names[c], n, po / pm, verdict(po / pm >= 2.5));
            else
                printf("%s n=%zu: multi-shift %.2fx faster than one-shift per point; target >= 2.5x at n >= 512 INFO\n",
                       names[c], n, po / pm);
            if (n == 1024 && c < 2)
                printf("%s n=%zu: multi-shift at %.2fx the zgemm bound; target <= 2x at n = 1024 %s\n", names[c], n,
                       pm / bound, verdict(pm / bound <= 2.0));
            else
                printf("%s n=%zu: multi-shift at %.2fx the zgemm bound; target <= 2x at n = 1024%s INFO\n", names[c], n,
                       pm / bound, n == 1024 ? " (judged on grcar and ginibre)" : "");
            if (n == 1024) {
                grid_time t2 = time_grid(m.plan, &box, g, g, PTD_PSPEC_LANCZOS, 2, reps, "multi-shift grid, 2 threads");
                double sp = ms.seconds / t2.seconds;
                printf("    2 threads   %10.3f ms/point wall (1 thread %.3f)\n", 1e3 * t2.per_point, 1e3 * ms.per_point);
                printf("%s n=%zu: multi-shift on 2 threads %.2fx faster than on 1 (wall); target >= 1.8x %s\n", names[c],
                       n, sp, verdict(sp >= 1.8));
            }
            free_matrix(&m);
        }
}

/* Peak memory of a child process (this program again, so that no OpenMP or OpenBLAS state is
 * inherited through fork): a plan of order n and a grid on it, all threads. */
static long child_peak_kib(const char *self, size_t n, size_t g, const char *name, double *secs)
{
    char ns[32], gsz[32];
    snprintf(ns, sizeof ns, "%zu", n);
    snprintf(gsz, sizeof gsz, "%zu", g);
    fflush(stdout);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
        execl(self, self, "--memory-child", name, ns, gsz, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) fail("wait4: %s", strerror(errno));
    *secs = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the memory child (%s n=%zu) failed", name, n);
    return ru.ru_maxrss;
}

static int memory_child(const char *name, size_t n, size_t g)
{
    ptd_init();
    bench_matrix m = make_matrix(name, n);
    ptd_box box = case_box(name, n);
    ptd_pspec_grid *gr = NULL;
    check(ptd_pspec_grid_compute(m.plan, &box, g, g, NULL, &gr), "memory grid");
    ptd_pspec_grid_free(gr);
    free_matrix(&m);
    return 0;
}

static void memory_section(const char *self)
{
    printf("\n[8] memory: peak resident set of a process that makes the plan and computes a grid (all threads)\n");
    double secs;
    long base = child_peak_kib(self, 64, 2, "hippo-legs", &secs);
    long kib = child_peak_kib(self, 4096, 4, "hippo-legs", &secs);
    /* a 100 x 100 grid adds its points, values and errors (24 bytes a point) to a 4 x 4's */
    double extra = (100.0 * 100.0 - 16.0) * 24.0 / 1024.0;
    double gib = ((double)kib + extra) / (1024.0 * 1024.0);
    printf("  hippo-legs n=4096 (exact plan: A, T and |T| for the error bounds), 4x4 grid: peak "
           "%.0f MiB in %.1f s (n=64: %.0f MiB)\n", (double)kib / 1024.0, secs, (double)base / 1024.0);
    printf("memory n=4096, 100x100 grid: %.2f GiB (the 4x4 run's peak plus %.0f KiB of grid arrays); target <= 2 GiB %s\n",
           gib, extra, verdict(gib <= 2.0));
}

/* --- the report ------------------------------------------------------------------------- */

static void header(void)
{
    char date[64];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    const char *omp_env = getenv("OMP_NUM_THREADS"), *ob_env = getenv("OPENBLAS_NUM_THREADS");
    printf("bench_pspec: libptd %s, %s\n", ptd_version(), date);
    printf("  cores online %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
#ifdef _OPENMP
    printf("  OpenMP: max threads %d (OMP_NUM_THREADS=%s)\n", omp_get_max_threads(),
           omp_env ? omp_env : "unset");
#else
    printf("  OpenMP: not compiled in (OMP_NUM_THREADS=%s)\n", omp_env ? omp_env : "unset");
#endif
    printf("  OpenBLAS: %s; threads %d (OPENBLAS_NUM_THREADS=%s; libptd uses 1 inside grids)\n",
           openblas_get_config(), openblas_get_num_threads(), ob_env ? ob_env : "unset");
    printf("  timings: best (minimum wall time) of %d runs of each measurement\n", REPS);
    capacity("start");
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--memory-child") == 0)
        return memory_child(argv[2], (size_t)atol(argv[3]), (size_t)atol(argv[4]));
    /* `bench_pspec 7 8` runs those sections only */
    int want[9] = {0};
    for (int k = 1; k < argc; k++) {
        int sec = atoi(argv[k]);
        if (sec < 1 || sec > 8) fail("usage: bench_pspec [SECTION...] (sections 1 to 8)");
        want[sec] = 1;
    }
    if (want[4]) want[1] = want[2] = want[3] = 1; /* the thread section compares their grids */
    if (argc == 1)
        for (int sec = 1; sec <= 8; sec++) want[sec] = 1;
    double t_start = now();
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress visible under make */
    ptd_init();
    header();

    /* Lanczos vs SVD comparisons run both methods on 2 threads, the tool's default on
     * this machine; the thread section below compares 1 and 2 threads for Lanczos. */
    const int TH = 2;
    grid_time thr1[3], thr2[3];
    const char *thr_name[3] = {"hippo-legs n=64 200x200", "grcar n=256 40x40", "ginibre n=512 20x20"};

    /* 1. hippo-legs n=64, automatic 200x200 grid for eps 1e-4 (as `pspec hippo-legs -n 64
     * -eps 1e-4`).  SVD on every 4th grid point in each direction: a 50x50 grid over the
     * sub-box [xmin, xmin + 196 hx] x [ymin, ymin + 196 hy] has exactly those points. */
    if (want[1]) {
        printf("\n[1] hippo-legs n=64, automatic box for eps 1e-4, 200x200 grid\n");
        bench_matrix m = make_matrix("hippo-legs", 64);
        double tb;
        ptd_box box = auto_box(m.plan, 1e-4, 200, 200, &tb, "hippo-legs auto box");
        print_box("box (automatic)", &box);
        printf("  (auto box took %.3f s; plan %.4f s)\n", tb, m.plan_seconds);
        double hx = (box.xmax - box.xmin) / 199, hy = (box.ymax - box.ymin) / 199;
        ptd_box sub = {box.xmin, box.xmin + 196 * hx, box.ymin, box.ymin + 196 * hy};
        grid_time lz = time_grid(m.plan, &box, 200, 200, PTD_PSPEC_LANCZOS, TH, REPS, "hippo-legs Lanczos grid");
        grid_time lzs = time_grid(m.plan, &sub, 50, 50, PTD_PSPEC_LANCZOS, TH, REPS, "hippo-legs Lanczos subgrid");
        grid_time sv = time_grid(m.plan, &sub, 50, 50, PTD_PSPEC_SVD, TH, REPS, "hippo-legs SVD subgrid");
        print_grid_line("Lanczos, full 200x200", &lz);
        print_grid_line("Lanczos, 50x50 subset", &lzs);
        print_grid_line("SVD, 50x50 subset", &sv);
        printf("  SVD extrapolated to the full grid: %.3f s\n", sv.per_point * 40000);
        printf("hippo-legs n=64: Lanczos full grid %.3f s; SVD/Lanczos per-point ratio %.1fx "
               "(full-grid Lanczos; %.1fx on the same 50x50 points); target: none stated INFO\n",
               lz.seconds, sv.per_point / lz.per_point, sv.per_point / lzs.per_point);
        thr2[0] = lz;
        thr1[0] = time_grid(m.plan, &box, 200, 200, PTD_PSPEC_LANCZOS, 1, REPS, "hippo-legs Lanczos grid, 1 thread");
        free_matrix(&m);
        }

    /* 2. grcar n=256: the automatic box for eps 1e-4 at 40x40 (what `pspec grcar -n 256
     * -eps 1e-4 --grid 40` draws); both methods on every point. */
    if (want[2]) {
        printf("\n[2] grcar n=256, automatic box for eps 1e-4, 40x40 grid, both methods on all points\n");
        bench_matrix m = make_matrix("grcar", 256);
        double tb;
        ptd_box box = auto_box(m.plan, 1e-4, 40, 40, &tb, "grcar auto box");
        print_box("box (automatic)", &box);
        printf("  (auto box took %.3f s; plan %.4f s)\n", tb, m.plan_seconds);
        grid_time lz = time_grid(m.plan, &box, 40, 40, PTD_PSPEC_LANCZOS, TH, REPS, "grcar Lanczos grid");
        grid_time sv = time_grid(m.plan, &box, 40, 40, PTD_PSPEC_SVD, TH, REPS, "grcar SVD grid");
        print_grid_line("Lanczos", &lz);
        print_grid_line("SVD", &sv);
        double ratio = sv.per_point / lz.per_point;
        printf("grcar n=256: Lanczos %.1fx faster than SVD per point; target >= 30x %s\n", ratio,
               verdict(ratio >= 30));
        thr2[1] = lz;
        thr1[1] = time_grid(m.plan, &box, 40, 40, PTD_PSPEC_LANCZOS, 1, REPS, "grcar Lanczos grid, 1 thread");
        free_matrix(&m);
        }

    /* 3. ginibre n=512 (seed 1): the automatic box for eps 1e-2 at 20x20. */
    if (want[3]) {
        printf("\n[3] ginibre n=512 (seed 1), automatic box for eps 1e-2, 20x20 grid, both methods on all points\n");
        bench_matrix m = make_matrix("ginibre", 512);
        double tb;
        ptd_box box = auto_box(m.plan, 1e-2, 20, 20, &tb, "ginibre auto box");
        print_box("box (automatic)", &box);
        printf("  (auto box took %.3f s; plan %.3f s)\n", tb, m.plan_seconds);
        grid_time lz = time_grid(m.plan, &box, 20, 20, PTD_PSPEC_LANCZOS, TH, REPS, "ginibre Lanczos grid");
        grid_time sv = time_grid(m.plan, &box, 20, 20, PTD_PSPEC_SVD, TH, REPS, "ginibre SVD grid");
        print_grid_line("Lanczos", &lz);
        print_grid_line("SVD", &sv);
        printf("ginibre n=512: Lanczos %.1fx faster than SVD per point; target: none stated INFO\n",
               sv.per_point / lz.per_point);
        thr2[2] = lz;
        thr1[2] = time_grid(m.plan, &box, 20, 20, PTD_PSPEC_LANCZOS, 1, REPS, "ginibre Lanczos grid, 1 thread");
        free_matrix(&m);
        }

    /* 4. threads: the three Lanczos grids above on 1 and on 2 threads.  The target is
     * judged on the largest case, ginibre n=512 (largest order, most work per point). */
    if (want[1] && want[2] && want[3]) {
        printf("\n[4] threads: the Lanczos grids above, 1 thread vs 2 threads\n");
        for (int c = 0; c < 3; c++) {
            double sp = thr1[c].seconds / thr2[c].seconds;
            printf("  %-24s 1 thread %.3f s, 2 threads %.3f s\n", thr_name[c], thr1[c].seconds, thr2[c].seconds);
            if (c == 2)
                printf("threads %s: speedup %.2fx on 2 threads; target >= 1.7x (largest case) %s\n", thr_name[c], sp,
                       verdict(sp >= 1.7));
            else
                printf("threads %s: speedup %.2fx on 2 threads; target >= 1.7x judged on ginibre n=512 INFO\n",
                       thr_name[c], sp);
        }
    }

    /* 5. scaling: time per point against n on one fixed 12x12 grid over [-1.5, 1.5]^2, which
     * encloses the Ginibre spectrum (the unit disc) for every n; 1 thread. */
    if (want[5]) {
        printf("\n[5] scaling: ginibre (seed 1), fixed 12x12 grid over [-1.5, 1.5] x [-1.5, 1.5], 1 thread\n");
        const size_t ns[5] = {64, 128, 256, 512, 1024};
        double tpp[5], tps[5];
        ptd_box box = {-1.5, 1.5, -1.5, 1.5};
        for (int k = 0; k < 5; k++) {
            bench_matrix m = make_matrix("ginibre", ns[k]);
            grid_time t = time_grid(m.plan, &box, 12, 12, PTD_PSPEC_LANCZOS, 1, REPS, "scaling grid");
            tpp[k] = t.per_point;
            tps[k] = t.per_point / t.mean_iter;
            printf("  n=%-5zu %9.2f us/point  %6.2f Lanczos steps/point (max %u)  %8.3f us/step  (plan %.3f s)\n",
                   ns[k], 1e6 * t.per_point, t.mean_iter, t.max_iter, 1e6 * tps[k], m.plan_seconds);
            free_matrix(&m);
        }
        /* least-squares slope of log t against log n over n = 128 .. 1024 */
        double slope[2];
        for (int which = 0; which < 2; which++) {
            const double *y = which == 0 ? tpp : tps;
            double sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (int k = 1; k < 5; k++) {
                double lx = log((double)ns[k]), ly = log(y[k]);
                sx += lx;
                sy += ly;
                sxx += lx * lx;
                sxy += lx * ly;
            }
            slope[which] = (4 * sxy - sx * sy) / (4 * sxx - sx * sx);
        }
        printf("  time per Lanczos step: log-log slope %.2f over n=128..1024 (iteration counts factored out)\n",
               slope[1]);
        printf("scaling: log-log slope of time per point %.2f over n=128..1024; target 1.7..2.3 %s\n", slope[0],
               verdict(slope[0] >= 1.7 && slope[0] <= 2.3));
        }

    /* 6. end to end: the tool, as a user runs it. */
    if (want[6]) {
        printf("\n[6] end to end: $PSPEC hippo-legs -n 64 -eps 1e-4 -o FILE --quiet\n");
        const char *pspec = getenv("PSPEC");
        if (!pspec || !*pspec) pspec = "bin/pspec";
        if (!is_executable(pspec)) {
            printf("end to end: %s is not an executable (set PSPEC, or run `make bench`); target < 1 s SKIP (not run)\n",
                   pspec);
        } else {
            char dir[] = "/tmp/bench_pspec.XXXXXX";
            if (!mkdtemp(dir)) fail("mkdtemp: %s", strerror(errno));
            char gp[64], png[64];
            snprintf(gp, sizeof gp, "%s/hippo.gp", dir);
            snprintf(png, sizeof png, "%s/hippo.png", dir);
            char *argv_gp[] = {(char *)pspec, "hippo-legs", "-n", "64", "-eps", "1e-4", "-o", gp, "--quiet", NULL};
            char *argv_png[] = {(char *)pspec, "hippo-legs", "-n", "64", "-eps", "1e-4", "-o", png, "--quiet", NULL};
            printf("  tool: %s\n", pspec);
            double tgp = best_of_tool(argv_gp, REPS);
            printf("end to end -o .gp: %.3f s; target < 1 s %s\n", tgp, verdict(tgp < 1.0));
            if (have_gnuplot()) {
                double tpng = best_of_tool(argv_png, REPS);
                printf("end to end -o .png (gnuplot rendering included): %.3f s; target: none stated INFO\n", tpng);
            } else {
                printf("end to end -o .png: gnuplot not found, not run INFO\n");
            }
            unlink(gp);
            unlink(png);
            rmdir(dir);
        }
        }

    if (want[7]) multishift_section();
    if (want[8]) memory_section(argv[0][0] == '/' ? argv[0] : "/proc/self/exe");

    printf("\n");
    capacity("end");
    printf("bench_pspec: total %.1f s\n", now() - t_start);
    return 0;
}
