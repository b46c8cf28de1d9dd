/* machine.h - what the benchmarks share: a monotonic clock, failure reporting, and a check
 * of how much of the machine a run had.  Header-only (static inline functions): each
 * benchmark is one program.  Define BENCH_NAME (for messages) before including it. */
#ifndef PTD_BENCH_MACHINE_H
#define PTD_BENCH_MACHINE_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ptd.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef BENCH_NAME
#define BENCH_NAME "bench"
#endif

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "BENCH_NAME: message" on stderr, exit 1: a library call failed. */
static inline void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fail(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, BENCH_NAME ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static inline void check_call(int st, const char *what)
{
    if (st) fail("%s: %s (%s)", what, ptd_last_error(), ptd_strerror(st));
}

static inline const char *verdict(int pass) { return pass ? "PASS" : "MISS"; }

static inline double bench_spin(long iters)
{
    volatile double x = 0;
    for (long i = 0; i < iters; i++) x = x + 1e-9;
    return x;
}

/* A fixed arithmetic loop, alone and then on every thread at once, best of `reps`.  On an
 * idle machine with c cores the ratio (threads x time alone / time together) is about
 * min(c, threads); less means someone else was using the cores and every figure of the run
 * is pessimistic. */
static inline void bench_capacity(const char *when, int reps)
{
    const long iters = 50000000L;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double alone = INFINITY, together = INFINITY;
    for (int k = 0; k < reps; k++) {
        double t0 = now();
        bench_spin(iters);
        alone = fmin(alone, now() - t0);
        t0 = now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
        bench_spin(iters);
        together = fmin(together, now() - t0);
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
