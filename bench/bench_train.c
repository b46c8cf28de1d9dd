/* bench_train - samples per second of the training loop's forward plus backward pass on the
 * issue's shape (L = 784, width 64, N = 64, 4 layers, batch 32), on 1 and 2 threads, with the
 * time split into FFT, dense layers, kernel generation and the rest.
 * Usage: bench_train [batches]   (default 3 timed batches after one warm-up) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ptd.h"
#define BENCH_NAME "bench_train"
#include "machine.h"

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    ptd_init();
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    if (reps < 1) reps = 1;
    const size_t L = 784, B = 32;
    /* synthetic data of the sFMNIST shape: the cost does not depend on the values */
    ptd_listops_opts lo = {.min_len = 1, .max_len = 1, .max_depth = 1, .max_args = 2};
    ptd_dataset *d = NULL;
    if (ptd_data_listops_generate(&lo, B, 1, &d)) return fprintf(stderr, "%s\n", ptd_last_error()), 1;
    free(d->x);
    d->len = L, d->din = 1;
    d->x = malloc(B * L * sizeof *d->x);
    for (size_t i = 0; i < B * L; i++) d->x[i] = (float)sin(0.01 * (double)i);
    ptd_train_config c = {.din = 1, .nclass = 10, .len = L, .layers = 4, .width = 64, .state = 64, .seed = 1};
    ptd_train_model *m = NULL;
    if (ptd_train_model_create(&c, &m)) return fprintf(stderr, "%s\n", ptd_last_error()), 1;
    double *g = malloc(ptd_train_model_nparams(m) * sizeof *g);
    printf("bench_train: forward + backward, L = %zu, width %zu, N = %zu (%zu modes), %zu layers, batch %zu, "
           "%zu parameters, FFT length %zu (GSL mixed radix)\n",
           L, c.width, c.state, c.state / 2, c.layers, B, ptd_train_model_nparams(m), 2 * L);
    double rate[3] = {0};
    for (int T = 1; T <= 2; T++) {
        double loss, best = INFINITY, bestcpu = 0;
        ptd_train_loss_grad(m, d, NULL, B, NULL, T, &loss, NULL, g); /* warm-up: workspaces */
        ptd_train_timing tm, sum = {0};
        for (int r = 0; r < reps; r++) {
            ptd_train_timing_reset(m);
            double t0 = now(), c0 = cpu();
            if (ptd_train_loss_grad(m, d, NULL, B, NULL, T, &loss, NULL, g))
                return fprintf(stderr, "%s\n", ptd_last_error()), 1;
            double t = now() - t0, ct = cpu() - c0;
            ptd_train_timing_get(m, &tm);
            if (t < best) best = t, sum = tm, bestcpu = ct;
        }
        double tot = sum.fft + sum.dense + sum.kernel + sum.rest;
        rate[T] = (double)B / best;
        printf("  %d thread%s: %.3f s per batch, %.1f samples/s; time split (thread-seconds): FFT %.0f %%, dense "
               "%.0f %%, kernel generation %.0f %%, rest %.0f %%; CPU time / wall time %.2f\n",
               T, T > 1 ? "s" : " ", best, rate[T], 100 * sum.fft / tot, 100 * sum.dense / tot,
               100 * sum.kernel / tot, 100 * sum.rest / tot, bestcpu / best);
    }
    double sp = rate[2] / rate[1];
    printf("  speed-up 2 threads / 1: %.2fx (target >= 1.7x): %s\n", sp, sp >= 1.7 ? "PASS" : "MISS");
    printf("  (wall times, best of %d; CPU / wall below the thread count means the cores were shared with other\n"
           "  jobs, and the speed-up then says little about the code)\n", reps);
    free(g);
    ptd_train_model_free(m);
    ptd_dataset_free(d);
    return 0;
}
