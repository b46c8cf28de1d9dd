/* machine.h - what the benchmarks share: a monotonic clock and a check of how much of the
 * machine a run had.  Header-only (static functions): each benchmark is one program. */
#ifndef PTD_BENCH_MACHINE_H
#define PTD_BENCH_MACHINE_H

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double bench_spin(long iters)
{
    volatile double x = 0;
    for (long i = 0; i < iters; i++) x = x + 1e-9;
    return x;
}

/* A fixed arithmetic loop, alone and then on every thread at once, best of `reps`.  On an
 * idle machine with c cores the ratio (threads x time alone / time together) is about
 * min(c, threads); less means someone else was using the cores and every figure of the run
 * is pessimistic. */
static void bench_capacity(const char *when, int reps)
{
    const long iters = 50000000L;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double alone = INFINITY, together = INFINITY;
    for (int k = 0; k < reps; k++) {
        double t0 = bench_now();
        bench_spin(iters);
        alone = fmin(alone, bench_now() - t0);
        t0 = bench_now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
        bench_spin(iters);
        together = fmin(together, bench_now() - t0);
    }
    char load[64] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f)) load[strcspn(load, "\n")] = 0;
        fclose(f);
    }
    printf("  machine check (%s): %d threads of a busy loop ran %.2fx as much work as 1 "
           "(idle machine: %d.00); load average %s\n",
           when, threads, threads * alone / together, threads, load);
}

#endif
