/* bench_mpi - pspec-mpi (issue 15) on 1 and 2 ranks of this machine, its communication
 * measured (plan broadcast bytes and time, gather), and a model of R = 1 .. 1024 ranks fitted
 * to those figures: where the broadcast and the gather stop paying.
 *
 * Every run is `mpirun -q -np R PSPEC_MPI ARGS` (PSPEC_MPI, MPIRUN from the environment, else
 * bin/pspec-mpi and mpirun), one OpenMP thread per rank unless said, its stderr summary parsed:
 * the grid line (grid seconds, region seconds) and the MPI line (chunks, broadcast, gather).
 * Wall times of the whole command are taken here too.  The ratios are between runs of this
 * one benchmark. */
#define BENCH_NAME "bench_mpi"
#include "config.h"
#include "machine.h"

#include <sys/resource.h>
#include <unistd.h>

typedef struct {
    double wall;        /* the whole mpirun command */
    double cpu;         /* its CPU time, every rank and mpirun (RUSAGE_CHILDREN) */
    double grid, region;/* from the summary: the grid line's total and its region part */
    double bcast_mb, bcast_s, gather_mb, gather_s;
    size_t chunks, rows;
} run_fig;

static const char *prog_path(const char *env, const char *fallback)
{
    const char *p = getenv(env);
    return p && *p ? p : fallback;
}

/* CPU seconds of the waited-for children and their descendants (mpirun waits for its ranks). */
static double children_cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_CHILDREN, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec + 1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/* `MPIRUN -q -np R PSPEC_MPI args` with OMP_NUM_THREADS = threads, best wall time of reps. */
static run_fig run(int r, int threads, const char *args, int reps)
{
    run_fig best = {INFINITY, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < reps; k++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "OMP_NUM_THREADS=%d OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                 "OMPI_MCA_rmaps_base_oversubscribe=1 %s -q -np %d %s %s -o /dev/null 2>&1 >/dev/null",
                 threads, prog_path("MPIRUN", "mpirun"), r, prog_path("PSPEC_MPI", "bin/pspec-mpi"), args);
        double t0 = now(), c0 = children_cpu();
        FILE *f = popen(cmd, "r");
        if (!f) fail("popen: %s", cmd);
        run_fig x = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        char line[1024];
        int got_grid = 0, got_mpi = 0;
        while (fgets(line, sizeof line, f)) {
            const char *g = strstr(line, " thread");
            if (strncmp(line, "  grid ", 7) == 0 && g) {
                /* "..., 1 thread, 2.34 s (0.12 s finding the region), ..." */
                const char *c = strchr(g, ',');
                if (c && sscanf(c, ", %lf s (%lf s finding", &x.grid, &x.region) == 2) {
                    x.grid -= x.region; /* the line's time includes the region's */
                    got_grid = 1;
                }
            }
            if (strncmp(line, "  MPI: ", 7) == 0) {
                const char *c = strstr(line, "ranks, ") ? strstr(line, "ranks, ") + 7 : strstr(line, "rank, ") + 6;
                if (sscanf(c, "%zu chunks of %zu rows; plan broadcast %lf MB in %lf s, results gathered %lf MB in %lf s",
                           &x.chunks, &x.rows, &x.bcast_mb, &x.bcast_s, &x.gather_mb, &x.gather_s) == 6)
                    got_mpi = 1;
            }
        }
        int st = pclose(f);
        x.wall = now() - t0;
        x.cpu = children_cpu() - c0;
        if (st != 0 || !got_grid || !got_mpi) fail("'%s' failed or printed no summary (status %d)", cmd, st);
        if (x.wall < best.wall) best = x;
    }
    return best;
}

int main(void)
{
    double t_start = now();
    printf("bench_mpi: pspec-mpi on this machine (%ld cores online)\n", sysconf(_SC_NPROCESSORS_ONLN));
    bench_capacity("start", 3);
    if (access(prog_path("PSPEC_MPI", "bin/pspec-mpi"), X_OK) != 0)
        fail("%s not found: build with MPI (configure --with-mpi) or set PSPEC_MPI", prog_path("PSPEC_MPI", "bin/pspec-mpi"));

    /* [1] the grid: Grcar n = 256 on a fixed 160 x 160 box, 1 rank x 1 thread against 2 ranks
     * x 1 thread (both cores), and 1 rank x 2 threads for comparison */
    const char *grid_args = "grcar -n 256 --grid 160 --box -1,3,-3.5,3.5 -eps 1e-4";
    printf("\n[1] %s\n", grid_args);
    run_fig r1 = run(1, 1, grid_args, 2), r2 = run(2, 1, grid_args, 2), t2 = run(1, 2, grid_args, 2);
    printf("  1 rank  x 1 thread : grid %.3f s, whole command %.3f s wall, %.3f s CPU\n", r1.grid, r1.wall, r1.cpu);
    printf("  2 ranks x 1 thread : grid %.3f s, whole command %.3f s wall, %.3f s CPU  (%zu chunks of %zu rows)\n",
           r2.grid, r2.wall, r2.cpu, r2.chunks, r2.rows);
    printf("  1 rank  x 2 threads: grid %.3f s, whole command %.3f s wall, %.3f s CPU\n", t2.grid, t2.wall, t2.cpu);
    printf("  wall speedup of the grid on 2 ranks: %.2fx (2 threads in one rank: %.2fx); INFO: needs an idle "
           "machine (see the machine check)\n", r1.grid / r2.grid, r1.grid / t2.grid);
    printf("  CPU time on 2 ranks over 1 rank: %.3fx (the cost of distributing: MPI start, the second process, "
           "polling, chunk tails); INFO\n", r2.cpu / r1.cpu);
    printf("  communication on 2 ranks: plan broadcast %.3g MB in %.3g s, results gathered %.3g MB in %.3g s\n",
           r2.bcast_mb, r2.bcast_s, r2.gather_mb, r2.gather_s);

    /* [2] the plan broadcast at a larger order: LegS n = 1024 (exact Schur form: no zgees to
     * wait for), a 4 x 4 grid */
    const char *big_args = "hippo-legs -n 1024 --grid 4 --box -4500,250,-2500,2500 -eps 1e-4";
    printf("\n[2] %s\n", big_args);
    run_fig b2 = run(2, 1, big_args, 2);
    double bw = b2.bcast_mb / fmax(b2.bcast_s, 1e-9);
    printf("  plan broadcast to 1 rank: %.3g MB in %.4f s: %.0f MB/s (loopback, shared memory)\n", b2.bcast_mb,
           b2.bcast_s, bw);

    /* [3] where the region search runs: on rank 0 alone, while the others wait */
    const char *auto_args = "grcar -n 256 --grid 160 -eps 1e-4";
    printf("\n[3] %s (automatic region, on rank 0)\n", auto_args);
    run_fig a2 = run(2, 1, auto_args, 1);
    printf("  2 ranks: region %.3f s of %.3f s (%.0f %%): on R ranks it would be at most that over R\n", a2.region,
           a2.grid, 100 * a2.region / fmax(a2.grid, 1e-9));

    /* [4] the model: T(R) = S + W / R + B(R) + G, fitted to [1] and [2]:
     *   W  the grid's compute on one rank (r1.grid);
     *   B  the plan broadcast, a binomial tree: ceil(log2 R) steps of plan_bytes / bw each;
     *   G  the gather: every value once into rank 0 (16 bytes a point) at the measured rate,
     *      plus per chunk one round trip (the time in receives of [1] over its chunks);
     *   S  what only rank 0 does (plan, region, criss-cross, the file), not in the grid time.
     * Figures for this order and grid, and for n = 1024 and 4096 with a 1000 x 1000 grid (the
     * point cost scaled as n^2 from [1]; a plan of 32 n^2 bytes; gather 16 MB), with the
     * loopback rate of [2] and a 1 GB/s network (10 Gb Ethernet) */
    printf("\n[4] model T(R) = W/R + ceil(log2 R) plan/bw + values/bw + chunks x latency (rank 0's serial part "
           "left out)\n");
    double pts1 = 160.0 * 160.0, point_s = r1.grid / pts1;
    double lat = r2.chunks ? r2.gather_s / (double)r2.chunks : 0;
    struct {
        const char *what;
        double n, pts, bw;
    } cases[] = {{"grcar n=256, 160^2, loopback", 256, pts1, bw},
                 {"n=1024, 1000^2, loopback", 1024, 1e6, bw},
                 {"n=1024, 1000^2, 1 GB/s", 1024, 1e6, 1000},
                 {"n=4096, 1000^2, 1 GB/s", 4096, 1e6, 1000}};
    printf("  per point %.3g ms at n = 256 (1 thread); per chunk %.3g ms in receives\n", 1e3 * point_s, 1e3 * lat);
    printf("  %-30s", "R:");
    const int rs[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    for (size_t k = 0; k < sizeof rs / sizeof rs[0]; k++) printf(" %8d", rs[k]);
    printf("\n");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double n = cases[c].n, w = point_s * (n / 256) * (n / 256) * cases[c].pts, plan_mb = 32 * n * n / 1e6,
               vals_mb = 16 * cases[c].pts / 1e6;
        printf("  %-30s", cases[c].what);
        int stop = 0;
        double best = INFINITY;
        for (size_t k = 0; k < sizeof rs / sizeof rs[0]; k++) {
            double r = rs[k], steps = ceil(log2(r));
            double chunks = r == 1 ? 1 : 4 * r;
            double t = w / r + (r > 1 ? steps * plan_mb / cases[c].bw + vals_mb / cases[c].bw + chunks * lat : 0);
            printf(" %8.3g", t);
            if (t < best) best = t;
            else if (!stop) stop = rs[k];
        }
        /* the rank count where one more doubling saves less than the broadcast step costs */
        double rstar = w * log(2) / fmax(plan_mb / cases[c].bw, 1e-12);
        printf("   (s; best %.3g s; doubling stops paying near R = %.0f%s)\n", best, rstar,
               stop ? "" : ", beyond the table");
    }
    printf("\n");
    bench_capacity("end", 3);
    printf("bench_mpi: %.1f s\n", now() - t_start);
    return 0;
}
