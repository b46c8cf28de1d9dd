/* transient - ||e^{tA}||_2 (or ||A^k||_2) against t, with the bounds that the spectrum, the
 * numerical range and the pseudospectra give. */
#include "config.h"
#include "cli.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#include "ptd.h"

#include <complex.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void);

static const struct option own_opts[] = {
    {"t-range", required_argument, NULL, 'r'}, {"discrete", no_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};

static const cli_tool tool = {
    .name = "transient",
    .accept = CLI_OPT_N | CLI_OPT_POINTS | CLI_OPT_SEED | CLI_OPT_THREADS,
    .own = own_opts,
    .usage = usage,
    .n_default = 64, .n_min = 1, .n_max = PTD_ZOO_MAX_N,
    .points_default = 200, .points_min = 2, .points_max = 100000,
    .help = {[CLI_H_N] = "order of a named matrix (default 64; at most 8192)",
             [CLI_H_POINTS] = "times, 2..100000 (default 200; with --discrete every integer k)",
             [CLI_H_SEED] = "seed of the random matrices (default 1)",
             [CLI_H_THREADS] = "threads of the BLAS in the exponentials and powers (default: all)"},
};

static void usage(void)
{
    printf("Usage: transient MATRIX [options]\n"
           "Transient growth ||e^{tA}||_2 (or ||A^k||_2 with --discrete) of a dense matrix, with the\n"
           "eigenvalue prediction, the numerical-abscissa upper bound and the pseudospectral (Kreiss)\n"
           "lower bound, drawn by gnuplot on a log axis.\n"
           "\n"
           "MATRIX is a name (see pspec --help), file:PATH (Matrix Market) or - (standard input).\n"
           "\n"
           "Options (single or double dash):\n"
           "  --t-range A:B      times (default 0:10; with --discrete the powers, default 0:50)\n"
           "  --discrete         ||A^k|| for integer k, with rho(A)^k, ||A||^k and (rho_eps - 1)/eps\n");
    cli_help_shared(&tool);
    printf("\nExamples:\n"
           "  transient demmel -n 8 --t-range 0:20 | gnuplot -p\n"
           "  transient grcar -n 32 --discrete --t-range 0:40 -o grcar-powers.png\n"
           "Exit status: 0 success, 1 numerical or I/O failure, 2 usage error.\n");
}

static void parse_range(const char *s, double *a, double *b)
{
    cli_double_range("--t-range", s, 0, a, b);
    if (!(*a >= 0)) cli_usage("--t-range needs A:B with 0 <= A < B (got '%s')", s);
}

int main(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&tool, &a, argc, argv);
    int discrete = 0, have_range = 0;
    double t0 = 0, t1 = 10;
    const char *range_arg = "0:10";
    int c;
    while ((c = cli_next(&tool, &a, argc, argv)) != -1) {
        switch (c) {
        case 'r':
            parse_range(optarg, &t0, &t1);
            have_range = 1;
            range_arg = optarg;
            break;
        case 'd': discrete = 1; break;
        }
    }
    size_t n = a.n, points = a.points;
    int quiet = a.quiet, tsv = a.tsv;
    unsigned long seed = a.seed;
    const char *out = a.out, *cmd = a.cmd;
    const char *spec = cli_one_matrix(argc, argv);
    if (discrete) {
        if (!have_range) t1 = 50;
        if (t0 != floor(t0) || t1 != floor(t1) || t1 > 100000)
            cli_usage("with --discrete, --t-range needs whole numbers K0:K1 up to 100000 (got '%s')", range_arg);
        points = (size_t)(t1 - t0) + 1;
    } else {
        cli_check_spacing("--t-range", range_arg, t0, t1, points, "--points");
    }
    cli_out_kind kind = cli_output_kind(out);
    if (tsv && kind == OUT_IMAGE) cli_usage("--format tsv cannot be drawn as an image: use -o FILE.tsv");
    int want_tsv = kind == OUT_DATA || (kind == OUT_STDOUT && tsv);

    ptd_system *sys = cli_zoo_make(spec, n, seed);
    int st;
    n = sys->n;
    { /* the plan, 13 criss-crosses for the Kreiss bound, and a power or an exponential per point */
        double norm1 = 0, n3 = (double)n * (double)n * (double)n;
        for (size_t j = 0; j < n; j++) {
            double col = 0;
            for (size_t i = 0; i < n; i++) col += cabs(PTD_AT(sys->A, i, j));
            norm1 = fmax(norm1, col);
        }
        /* the exponentials run one time to a thread, each with the squarings its own t needs */
        int nth = 1;
#ifdef _OPENMP
        nth = omp_get_max_threads();
#endif
        double expm = 0;
        for (size_t k = 0; !discrete && k < points; k++)
            expm += cli_flops_expm(n, (t0 + (t1 - t0) * (double)k / (double)(points > 1 ? points - 1 : 1)) * norm1);
        double flops = cli_flops_plan(sys->A) + 13 * cli_flops_crisscross(n) + (discrete ? t1 * 38 * n3 : expm / nth);
        cli_notice_work(quiet, n, cli_bytes_matrices(n, 12), flops / CLI_FLOP_RATE);
    }
    double tstart = cli_now();
    ptd_pspec_plan *plan = NULL;
    if ((st = ptd_pspec_plan_create(sys->A, &plan))) cli_fail("%s", ptd_last_error());
    double nrm = ptd_pspec_plan_norm2(plan), omega;
    if ((st = ptd_fov_abscissa(sys->A, &omega))) cli_fail("%s", ptd_last_error());
    const double complex *ev = ptd_pspec_plan_eigenvalues(plan);
    double alpha = -INFINITY, rho = 0;
    for (size_t i = 0; i < n; i++) {
        alpha = fmax(alpha, creal(ev[i]));
        rho = fmax(rho, cabs(ev[i]));
    }
    /* what alpha and rho are worth: a backward stable eigensolver's lambda_i are exact for some
     * A + E, ||E|| <= n u ||A||, so within kappa(lambda_i) n u ||A|| of the truth (to first order;
     * exactly for a triangular A, whose eigenvalues are its diagonal); the extreme lies between
     * the extremes of the lower and the upper ends, and a defective eigenvalue bounds nothing */
    double aerr = 0, rerr = 0;
    if (!ptd_pspec_plan_exact(plan)) {
        ptd_eig *e = NULL;
        if ((st = ptd_cond_eig(sys->A, &e))) cli_fail("%s", cli_lib_error("eigenvalue conditioning"));
        double alo = -INFINITY, ahi = -INFINITY, rlo = 0, rhi = 0, pert = (double)n * 1.1102230246251565e-16 * nrm;
        for (size_t i = 0; i < n; i++) {
            double d = e->eig_cond[i] * pert, re = creal(e->lambda[i]), r = cabs(e->lambda[i]);
            alo = fmax(alo, re - d);
            ahi = fmax(ahi, re + d);
            rlo = fmax(rlo, r - d);
            rhi = fmax(rhi, r + d);
        }
        aerr = fmax(ahi - alpha, alpha - alo);
        rerr = fmax(rhi - rho, rho - rlo);
        if (!isfinite(aerr)) aerr = INFINITY;
        if (!isfinite(rerr)) rerr = INFINITY;
        ptd_eig_free(e);
    }
    /* the eps ladder for the Kreiss-type bound: ||A|| 10^{-j}, j = 0..12, above the floor */
    double ladder[13];
    for (int j = 0; j < 13; j++) ladder[j] = nrm * pow(10.0, -j);
    double K = 1, Keps = NAN;
    if ((st = ptd_transient_kreiss(plan, ladder, 13, discrete, &K, &Keps))) cli_fail("%s", cli_lib_error("Kreiss bound"));

    double *t = malloc(points * sizeof *t), *y = malloc(points * sizeof *y), *ye = malloc(points * sizeof *ye),
           *yw = malloc(points * sizeof *yw), *yk = malloc(points * sizeof *yk);
    if (!t || !y || !ye || !yw || !yk) cli_fail("out of memory");
    for (size_t k = 0; k < points; k++) {
        t[k] = k + 1 == points ? t1 : t0 + (t1 - t0) * (double)k / (double)(points - 1);
        if (!isfinite(t[k])) t[k] = t0 + (t1 - t0) * ((double)k / (double)(points - 1)); /* (t1 - t0) k overflows */
    }
    if (discrete) {
        double *all = malloc(((size_t)t1 + 1) * sizeof *all);
        if (!all) cli_fail("out of memory");
        cli_progress_state prog;
        cli_progress_start(&prog, quiet, "powers");
        if ((st = ptd_transient_power_norms_progress(sys->A, (size_t)t1, all, cli_progress, &prog)))
            cli_fail("%s", ptd_last_error());
        cli_progress_end(&prog);
        for (size_t k = 0; k < points; k++) {
            y[k] = all[(size_t)t[k]];
            ye[k] = pow(rho, t[k]);
            yw[k] = pow(nrm, t[k]);
            yk[k] = K;
        }
        free(all);
    } else {
        cli_progress_state prog;
        cli_progress_start(&prog, quiet, "times");
        if ((st = ptd_transient_norms_progress(sys->A, t, points, y, cli_progress, &prog))) cli_fail("%s", ptd_last_error());
        cli_progress_end(&prog);
        for (size_t k = 0; k < points; k++) {
            ye[k] = exp(t[k] * alpha);
            yw[k] = exp(t[k] * omega);
            yk[k] = K;
        }
    }
    double secs = cli_now() - tstart;
    size_t kmax = 0;
    for (size_t k = 1; k < points; k++)
        if (y[k] > y[kmax]) kmax = k;
    /* values beyond the double range (+inf from the library) are written as DBL_MAX: say so */
    char range_note[200] = "";
    {
        const double *col[3] = {y, ye, yw};
        const char *what[3] = {discrete ? "||A^k||" : "||e^{tA}||", discrete ? "rho(A)^k" : "e^{t alpha}",
                               discrete ? "||A||^k" : "e^{t omega}"};
        size_t len = 0;
        for (int j = 0; j < 3; j++) {
            size_t first = points, count = 0;
            for (size_t k = 0; k < points; k++)
                if (isinf(col[j][k])) {
                    if (first == points) first = k;
                    count++;
                }
            if (count && len < sizeof range_note)
                len += (size_t)snprintf(range_note + len, sizeof range_note - len, "%s%s at %zu %s from %s = %.6g",
                                        len ? ", " : "", what[j], count, discrete ? "powers" : "times",
                                        discrete ? "k" : "t", t[first]);
        }
    }

    char nb[10][200];
    const char *notes[10];
    size_t nn = 0;
    snprintf(nb[nn++], 200, "matrix: %s", spec);
    snprintf(nb[nn++], 200, "n: %zu", n);
    snprintf(nb[nn++], 200, "seed: %lu", seed);
    snprintf(nb[nn++], 200, "%s: %.17g:%.17g, %zu points", discrete ? "k range" : "t range", t0, t1, points);
    char va[40], vr[40], vo[40], vn[40], ea[112];
    double rnd = (double)n * 1.1102230246251565e-16 * nrm; /* norm2 and omega: a backward stable SVD or Hermitian eig */
    /* a first-order bound beyond ||A|| says nothing: the computed value, to 6 digits, flagged */
    int unresolved = aerr >= nrm || rerr >= nrm;
    cli_digits(va, sizeof va, alpha, unresolved ? 1e-6 * fmax(fabs(alpha), nrm) : aerr);
    cli_digits(vr, sizeof vr, rho, unresolved ? 1e-6 * fmax(rho, nrm) : rerr);
    cli_digits(vo, sizeof vo, omega, rnd);
    cli_digits(vn, sizeof vn, nrm, rnd);
    snprintf(nb[nn++], 200, "norm2: %.24s, spectral abscissa %.24s, spectral radius %.24s, numerical abscissa %.24s", vn, va,
             vr, vo);
    if (unresolved)
        snprintf(ea, sizeof ea, "not resolved (kappa(lambda) n u ||A|| > ||A||), computed values");
    else if (aerr > 0)
        snprintf(ea, sizeof ea, "within %.2g and %.2g (kappa(lambda) n u ||A||)", aerr, rerr);
    else
        snprintf(ea, sizeof ea, "exact (the diagonal of a triangular A)");
    if (unresolved)
        snprintf(nb[nn++], 200, "spectral abscissa and radius: %.100s; %s is drawn from them", ea,
                 "eig_bound");
    else
        snprintf(nb[nn++], 200, "spectral abscissa and radius: %.100s; %s carries that error times %s", ea,
                 "eig_bound", discrete ? "k / rho" : "t");
    snprintf(nb[nn++], 200, "Kreiss-type lower bound: %.17g (eps = %.3g)", K, Keps);
    if (*range_note) snprintf(nb[nn++], 200, "beyond the double range, written as %.17g: %s", DBL_MAX, range_note);
    for (size_t k = 0; k < nn; k++) notes[k] = nb[k];
    char title[160];
    snprintf(title, sizeof title, "%s, n = %zu", spec, n);
    int latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0;
    ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
    char kt[128];
    if (discrete) snprintf(kt, sizeof kt, latex ? "$\\sup_k \\|A^k\\| \\ge (\\rho_\\varepsilon - 1)/\\varepsilon$ = %.4g" : "Kreiss: sup ||Aᵏ|| ≥ (ρ(ε) − 1)/ε = %.4g", K);
    else snprintf(kt, sizeof kt, latex ? "$\\sup_t \\|e^{tA}\\| \\ge \\alpha_\\varepsilon/\\varepsilon$ = %.4g" : "Kreiss: sup ||exp(tA)|| ≥ α(ε)/ε = %.4g", K);
    /* the numerical-abscissa bound does not set the y range (it may grow beyond the double
     * range while ||e^{tA}|| decays): where it leaves the frame, its key says so */
    double top = 0;
    for (size_t k = 0; k < points; k++) {
        if (isfinite(y[k])) top = fmax(top, y[k]);
        if (isfinite(ye[k])) top = fmax(top, ye[k]);
    }
    if (isfinite(K)) top = fmax(top, K);
    size_t off = points;
    for (size_t k = 0; k < points && off == points; k++)
        if (top > 0 && !(yw[k] <= 10 * top)) off = k;
    char wt[160];
    snprintf(wt, sizeof wt, "%s", discrete ? (latex ? "$\\|A\\|^k$" : "||A||ᵏ") : (latex ? "$e^{t\\omega(A)}$" : "exp(t ω(A)) (numerical abscissa)"));
    if (off < points)
        snprintf(wt + strlen(wt), sizeof wt - strlen(wt), latex ? ", off the scale from $%s = %.3g$" : ", off the scale from %s = %.3g",
                 discrete ? "k" : "t", t[off]);
    ptd_plot_curve s[4] = {
        {y, discrete ? "norm_Ak" : "norm_etA", discrete ? (latex ? "$\\|A^k\\|_2$" : "||Aᵏ||₂") : (latex ? "$\\|e^{tA}\\|_2$" : "||exp(tA)||₂"),
         discrete ? "linespoints lw 2 pt 7 ps 0.5 lc rgb '#0060ad'" : "lines lw 2 lc rgb '#0060ad'", 1},
        {ye, "eig_bound", discrete ? (latex ? "$\\rho(A)^k$" : "ρ(A)ᵏ (eigenvalues)") : (latex ? "$e^{t\\alpha(A)}$" : "exp(t α(A)) (eigenvalues)"),
         "lines lw 1.5 dt 2 lc rgb 'black'", 1},
        {yw, discrete ? "norm_bound" : "nabs_bound", wt,
         "lines lw 1.5 dt 3 lc rgb '#c0111f'", 0},
        {yk, "kreiss_bound", kt, "lines lw 1.5 dt 4 lc rgb '#2ca02c'", 1}};
    cli_membuf script = {0}, data = {0};
    if (want_tsv) st = ptd_plot_lines_tsv(cli_mem_open(&data), t, points, discrete ? "k" : "t", s, 4, &meta);
    else st = ptd_plot_lines_gnuplot(cli_mem_open(&script), t, points, s, 4, discrete ? "k" : "t",
                                     discrete ? (latex ? "$\\|A^k\\|_2$" : "||Aᵏ||₂") : (latex ? "$\\|e^{tA}\\|_2$" : "||e^{tA}||₂"), 1, &meta);
    cli_mem_close(want_tsv ? &data : &script);
    if (st) cli_fail("writing the output: %s", ptd_last_error());
    cli_emit(out, want_tsv, script.buf, script.len, data.buf, data.len);
    if (!quiet) {
        fprintf(stderr, "transient: %s, n = %zu, ||A||_2 = %.6g\n", spec, n, nrm);
        char sa[40], sr[40];
        int da = unresolved ? 6 : ptd_digits(alpha, aerr), dr = unresolved ? 6 : ptd_digits(rho, rerr);
        snprintf(sa, sizeof sa, "%.*g", da < 6 ? da : 6, alpha);
        snprintf(sr, sizeof sr, "%.*g", dr < 6 ? dr : 6, rho);
        fprintf(stderr, "  spectral abscissa %s, spectral radius %s%s, numerical abscissa %.6g\n", sa, sr,
                unresolved ? " (computed; ill-conditioned eigenvalues, not resolved in double precision)"
                : da < 6 || dr < 6 ? " (ill-conditioned eigenvalues: the digits they support)" : "", omega);
        if (isinf(y[kmax]))
            fprintf(stderr, "  max %s beyond the double range (first at %s = %.4g)\n", discrete ? "||A^k||" : "||e^{tA}||",
                    discrete ? "k" : "t", t[kmax]);
        else
            fprintf(stderr, "  max %s = %.6g at %s = %.4g\n", discrete ? "||A^k||" : "||e^{tA}||", y[kmax],
                    discrete ? "k" : "t", t[kmax]);
        if (*range_note) fprintf(stderr, "  beyond the double range, written as the largest double %.6g: %s\n", DBL_MAX, range_note);
        fprintf(stderr, "  Kreiss-type lower bound on the supremum: %.6g%s\n", K,
                isnan(Keps) ? " (the trivial 1: no eps gave more)" : "");
        fprintf(stderr, "  %zu points in %.3g s\n", points, secs);
    }
    free(script.buf);
    free(data.buf);
    free(t);
    free(y);
    free(ye);
    free(yw);
    free(yk);
    ptd_pspec_plan_free(plan);
    ptd_system_free(sys);
    return CLI_OK;
}
