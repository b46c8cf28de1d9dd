/* pspec-mpi - pspec's grid over MPI ranks: `mpirun -np R pspec-mpi MATRIX [pspec's options]`.
 *
 * Rank 0 runs pspec itself (pspec_run, bin/pspec-run.c): it parses the options, reads the
 * matrix, makes the plan (Schur form), finds the region and runs the criss-cross, and writes
 * the files and the summary exactly as pspec does.  Only the grid is shared out: rank 0
 * broadcasts the plan as bytes (ptd_pspec_plan_export: the Schur form as rank 0 computed it,
 * never recomputed elsewhere) and hands out chunks of grid rows as the ranks ask for them
 * (ptd_pspec_grid_rows: a row's values do not depend on which rank computes it or with what),
 * computing chunks itself between requests.  The other ranks only ever evaluate rows: they
 * read no input and write nothing.
 *
 * Ending: a usage error or a failure on rank 0 prints pspec's one line and exits with its
 * status; the other ranks are told to quit (or, mid-grid, are sent no more work) and leave
 * through MPI_Finalize, so that mpirun ends with rank 0's status.  A failure on another rank
 * comes back to rank 0 as its message.  A rank that dies makes mpirun kill the job: rank 0
 * says so in one line and removes its temporary files (lib/output.c); its output is only ever
 * written after the whole grid is in, through a temporary file and a rename.
 *
 * Waiting ranks poll (MPI_Test, then a sleep of WAIT_NS) rather than spin as Open MPI's
 * blocking calls do: a waiting rank would otherwise hold a core that a computing one needs. */
#include "config.h"
#include "cli.h"
#include "pspec.h"
#include "ptd.h"

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS's kernel name ("Haswell"): every rank must run rank 0's, since a kernel decides
 * the last bits of a zgemm, and so of the values (issue 9: OPENBLAS_CORETYPE). */
extern char *openblas_get_corename(void);

enum { TAG_WORK = 1, TAG_RESULT = 2, TAG_DATA = 3 };
enum { WAIT_NS = 200000, MSG_LEN = 512 };
/* MPI counts are ints: the plan goes out in pieces of at most this many bytes */
#define BCAST_PIECE ((size_t)1 << 30)

/* What rank 0 broadcasts first: quit, or the grid and the plan's size. */
typedef struct {
    int64_t go; /* 1: a grid follows; 0: quit */
    int64_t plan_bytes, nx, ny, method, maxit, threads, block;
    double box[4], tol;
    char kernel[64]; /* rank 0's OpenBLAS kernel */
} job_header;

/* A worker's answer for one chunk: rows j0 .. j1 - 1, then (status 0) their values. */
typedef struct {
    int64_t status, j0, j1, iterations, max_iterations, unconverged;
    char msg[MSG_LEN];
} chunk_result;

static int rank, ranks;
static int released; /* rank 0: the workers have been told to quit or have their work */
static pthread_t main_thread;
static void job_ended(void);

static void sleep_ns(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* MPI_Wait without spinning. */
static int wait_polling(MPI_Request *req, MPI_Status *status)
{
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, status);
        if (rc != MPI_SUCCESS || done) return rc;
        sleep_ns(WAIT_NS);
    }
}

static double wall(void) { return MPI_Wtime(); }

/* The job header from rank 0 to everyone: nonblocking on every rank (a nonblocking
 * collective matches only nonblocking ones), so that the workers wait without spinning. */
static void bcast_header(job_header *h)
{
    MPI_Request req;
    MPI_Ibcast(h, (int)sizeof *h, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
    wait_polling(&req, MPI_STATUS_IGNORE);
}

/* Rank 0: tell the workers to quit, when they are still waiting for a job; then finalize.
 * Runs at exit too (cli_usage and cli_fail exit), so that mpirun ends with rank 0's status
 * and message. */
static void end_mpi(void)
{
    /* exit() from another thread than main's can only be Open MPI's own (its event thread
     * ending the process when a peer has died).  The main thread may then be inside
     * OpenBLAS, whose exit-time clean-up would unmap its buffers under it: end here, as
     * SIGTERM would.  (Measured: before this, about one killed-rank run in ten ended in a
     * segfault in OpenBLAS on rank 0, and so did one without this exit handler at all; none
     * of some thirty since.) */
    if (!pthread_equal(pthread_self(), main_thread)) job_ended();
    int fin = 0;
    MPI_Finalized(&fin);
    if (fin) return;
    if (rank == 0 && !released) {
        job_header h;
        memset(&h, 0, sizeof h);
        released = 1;
        bcast_header(&h);
    }
    MPI_Finalize();
}

/* The plan's bytes from rank 0 to everyone, in pieces. */
static void bcast_bytes(unsigned char *buf, size_t len)
{
    for (size_t off = 0; off < len; off += BCAST_PIECE) {
        size_t k = len - off < BCAST_PIECE ? len - off : BCAST_PIECE;
        MPI_Bcast(buf + off, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
}

/* --- rank 0 ------------------------------------------------------------------------------ */

typedef struct {
    size_t chunk_rows, chunks;
    double bcast_seconds, gather_seconds, gather_bytes;
    size_t plan_bytes;
    char summary[300];
} mpi_ctx;

/* Rows per chunk: about 4 chunks a rank, for the balance (points differ 10x in cost), but
 * enough rows that a chunk has a few blocks of chains for each thread (a 32-row block solve
 * serves up to 48 points at once; a chunk of one short row would solve 12 lanes for 3). */
static size_t chunk_rows(size_t ny, int r, int threads)
{
    if (r == 1) return ny;
    size_t rows = (ny + 4 * (size_t)r - 1) / (4 * (size_t)r);
    size_t chains_per_row = ny < 384 ? 384 / ny : 1; /* as lib/pspec.c cuts rows */
    size_t need = (48 * (size_t)threads + chains_per_row - 1) / chains_per_row;
    size_t cap = (ny + (size_t)r - 1) / (size_t)r;
    if (need > cap) need = cap;
    if (rows < need) rows = need;
    return rows < 1 ? 1 : rows;
}

static int send_work(int to, size_t j0, size_t j1)
{
    int64_t w[2] = {(int64_t)j0, (int64_t)j1};
    return MPI_Send(w, 2, MPI_INT64_T, to, TAG_WORK, MPI_COMM_WORLD);
}

static int mpi_grid(void *vctx, const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny,
                    const ptd_pspec_opts *opts, ptd_pspec_grid **out, char *err, size_t errlen)
{
    mpi_ctx *c = vctx;
    *out = NULL;
    ptd_pspec_grid *g = NULL;
    int st = ptd_pspec_grid_create(box, nx, ny, &g);
    if (st) return st;
    int threads = opts->threads;
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#endif
    if (threads < 1) threads = 1;
    g->threads = threads;
    double t0 = wall();

    /* everything that can fail before the header goes out: after it the workers wait for
     * chunks, and only the end of the loop below releases them */
    size_t rows = chunk_rows(ny, ranks, threads), next = 0, done_rows = 0;
    c->chunk_rows = rows;
    c->chunks = (ny + rows - 1) / rows;
    int *outstanding = calloc((size_t)ranks, sizeof *outstanding);
    double *data = malloc(2 * nx * rows * sizeof *data);
    void *buf = NULL;
    size_t len = 0;
    if (!outstanding || !data || (st = ptd_pspec_plan_export(p, &buf, &len))) {
        free(outstanding);
        free(data);
        ptd_pspec_grid_free(g);
        if (!st) snprintf(err, errlen, "out of memory (chunks of %zu rows)", rows);
        return st ? st : PTD_ENOMEM;
    }
    job_header h = {.go = 1, .plan_bytes = (int64_t)len, .nx = (int64_t)nx, .ny = (int64_t)ny,
                    .method = opts->method, .maxit = opts->maxit, .threads = opts->threads,
                    .block = opts->block, .box = {box->xmin, box->xmax, box->ymin, box->ymax},
                    .tol = opts->tol};
    snprintf(h.kernel, sizeof h.kernel, "%s", openblas_get_corename());
    double tb = wall();
    released = 1;
    bcast_header(&h);
    if (ranks > 1) bcast_bytes(buf, len);
    c->bcast_seconds = wall() - tb;
    c->plan_bytes = ranks > 1 ? len : 0;
    free(buf);
    ptd_pspec_opts local = *opts;
    local.progress = NULL;
    /* two chunks to every worker, so that one is always waiting for it while rank 0 is busy */
    for (int pass = 0; pass < 2; pass++)
        for (int w = 1; w < ranks; w++)
            if (next < ny) {
                size_t e = next + rows < ny ? next + rows : ny;
                send_work(w, next, e);
                outstanding[w]++;
                next = e;
            }
    for (int w = 1; w < ranks; w++)
        if (outstanding[w] == 0) send_work(w, 0, 0); /* more ranks than chunks */
    int failure = PTD_OK;
    char failmsg[MSG_LEN] = "";
    ptd_pspec_grid_stats gs = {0, 0, 0};
    size_t pending = 0;
    for (int w = 1; w < ranks; w++) pending += (size_t)outstanding[w];
    while (pending > 0 || (next < ny && !failure)) {
        int flag = 0;
        MPI_Status ms;
        if (pending > 0) MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &ms);
        if (flag) {
            chunk_result r;
            int w = ms.MPI_SOURCE;
            MPI_Recv(&r, (int)sizeof r, MPI_BYTE, w, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            outstanding[w]--;
            pending--;
            if (r.status == 0) {
                size_t j0 = (size_t)r.j0, j1 = (size_t)r.j1, m = nx * (j1 - j0);
                double tg = wall();
                MPI_Recv(data, (int)(2 * m), MPI_DOUBLE, w, TAG_DATA, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                c->gather_seconds += wall() - tg;
                c->gather_bytes += (double)(2 * m * sizeof *data);
                memcpy(g->sigma + j0 * nx, data, m * sizeof *data);
                memcpy(g->err + j0 * nx, data + m, m * sizeof *data);
                gs.iterations += (unsigned long)r.iterations;
                if ((unsigned)r.max_iterations > gs.max_iterations) gs.max_iterations = (unsigned)r.max_iterations;
                gs.unconverged += (size_t)r.unconverged;
                done_rows += j1 - j0;
                if (opts->progress) opts->progress(opts->progress_ctx, done_rows * nx, nx * ny);
            } else if (!failure) {
                failure = (int)r.status;
                r.msg[MSG_LEN - 1] = '\0';
                snprintf(failmsg, sizeof failmsg, "%s", r.msg);
            }
            /* its next chunk, or the end (after a failure: no more work) */
            if (next < ny && !failure) {
                size_t e = next + rows < ny ? next + rows : ny;
                send_work(w, next, e);
                outstanding[w]++;
                pending++;
                next = e;
            } else if (outstanding[w] == 0) {
                send_work(w, 0, 0);
            }
            continue;
        }
        if (next < ny && !failure) {
            /* nobody is waiting: a chunk here */
            size_t j0 = next, e = next + rows < ny ? next + rows : ny;
            next = e;
            st = ptd_pspec_grid_rows(p, box, nx, ny, j0, e, &local, g->sigma + j0 * nx, g->err + j0 * nx, &gs);
            if (st) {
                failure = st;
                snprintf(failmsg, sizeof failmsg, "%s", ptd_last_error());
            }
            done_rows += e - j0;
            if (opts->progress) opts->progress(opts->progress_ctx, done_rows * nx, nx * ny);
            continue;
        }
        sleep_ns(WAIT_NS);
    }
    free(outstanding);
    free(data);
    g->seconds = wall() - t0;
    if (failure) {
        ptd_pspec_grid_free(g);
        snprintf(err, errlen, "%s", failmsg);
        return failure;
    }
    g->iterations = gs.iterations;
    g->max_iterations = gs.max_iterations;
    g->unconverged = gs.unconverged;
    snprintf(c->summary, sizeof c->summary,
             "MPI: %d rank%s, %zu chunks of %zu rows; plan broadcast %.3g MB in %.3g s, results gathered %.3g MB "
             "in %.3g s (time in receives)",
             ranks, ranks == 1 ? "" : "s", c->chunks, c->chunk_rows, (double)c->plan_bytes / 1e6, c->bcast_seconds,
             c->gather_bytes / 1e6, c->gather_seconds);
    *out = g;
    return PTD_OK;
}

/* --- the other ranks ------------------------------------------------------------------- */

static void send_failure(int status, const char *msg, int64_t j0, int64_t j1)
{
    chunk_result r;
    memset(&r, 0, sizeof r);
    r.status = status ? status : PTD_EINVAL;
    r.j0 = j0;
    r.j1 = j1;
    snprintf(r.msg, sizeof r.msg, "%s", msg);
    MPI_Send(&r, (int)sizeof r, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
}

static int worker(void)
{
    job_header h;
    bcast_header(&h);
    if (!h.go) return 0;
    size_t len = (size_t)h.plan_bytes, nx = (size_t)h.nx, ny = (size_t)h.ny;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        /* the broadcast cannot be taken part in without the memory: the job ends */
        fprintf(stderr, "pspec-mpi: rank %d: out of memory (the plan, %zu bytes)\n", rank, len);
        MPI_Abort(MPI_COMM_WORLD, CLI_FAIL);
    }
    int st = PTD_OK;
    char msg[MSG_LEN] = "";
    ptd_pspec_plan *p = NULL;
    bcast_bytes(buf, len);
    if ((st = ptd_pspec_plan_import(buf, len, &p))) snprintf(msg, sizeof msg, "rank %d: %s", rank, ptd_last_error());
    free(buf);
    h.kernel[sizeof h.kernel - 1] = '\0';
    const char *mine = openblas_get_corename();
    if (!st && strcmp(mine, h.kernel) != 0) {
        st = PTD_EINVAL;
        snprintf(msg, sizeof msg,
                 "rank %d runs OpenBLAS's %s kernels, rank 0 %s: its values would differ in the last bits; "
                 "give every rank OPENBLAS_CORETYPE=%s (mpirun -x OPENBLAS_CORETYPE)",
                 rank, mine, h.kernel, h.kernel);
    }
    ptd_box box = {h.box[0], h.box[1], h.box[2], h.box[3]};
    ptd_pspec_opts o = {.method = (ptd_pspec_method)h.method, .tol = h.tol, .maxit = (unsigned)h.maxit,
                        .threads = (int)h.threads, .block = (unsigned)h.block};
    /* two buffers: a chunk's answer goes out (nonblocking: rank 0 takes it when it next
     * looks, perhaps only after a chunk of its own) while the next chunk is computed */
    struct {
        double *data;
        size_t cap;
        chunk_result r;
        MPI_Request rq[2];
    } slot[2];
    memset(slot, 0, sizeof slot);
    for (int b = 0; b < 2; b++) slot[b].rq[0] = slot[b].rq[1] = MPI_REQUEST_NULL;
    MPI_Request req;
    for (int b = 0;; b ^= 1) {
        int64_t w[2];
        MPI_Irecv(w, 2, MPI_INT64_T, 0, TAG_WORK, MPI_COMM_WORLD, &req);
        wait_polling(&req, MPI_STATUS_IGNORE);
        if (w[1] <= w[0]) break;
        for (int k = 0; k < 2; k++) wait_polling(&slot[b].rq[k], MPI_STATUS_IGNORE); /* its last answer is out */
        size_t j0 = (size_t)w[0], j1 = (size_t)w[1], m = nx * (j1 - j0);
        if (!st && m > slot[b].cap) {
            free(slot[b].data);
            if (!(slot[b].data = malloc(2 * m * sizeof *slot[b].data))) {
                st = PTD_ENOMEM;
                snprintf(msg, sizeof msg, "rank %d: out of memory (%zu rows)", rank, j1 - j0);
            }
            slot[b].cap = slot[b].data ? m : 0;
        }
        double *data = slot[b].data;
        ptd_pspec_grid_stats gs = {0, 0, 0};
        if (!st && (st = ptd_pspec_grid_rows(p, &box, nx, ny, j0, j1, &o, data, data + m, &gs)))
            snprintf(msg, sizeof msg, "%s", ptd_last_error());
        if (st) {
            send_failure(st, msg, w[0], w[1]);
            continue;
        }
        chunk_result *r = &slot[b].r;
        memset(r, 0, sizeof *r);
        r->j0 = w[0];
        r->j1 = w[1];
        r->iterations = (int64_t)gs.iterations;
        r->max_iterations = gs.max_iterations;
        r->unconverged = (int64_t)gs.unconverged;
        MPI_Isend(r, (int)sizeof *r, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD, &slot[b].rq[0]);
        MPI_Isend(data, (int)(2 * m), MPI_DOUBLE, 0, TAG_DATA, MPI_COMM_WORLD, &slot[b].rq[1]);
    }
    for (int b = 0; b < 2; b++) {
        for (int k = 0; k < 2; k++) wait_polling(&slot[b].rq[k], MPI_STATUS_IGNORE);
        free(slot[b].data);
    }
    ptd_pspec_plan_free(p);
    return 0;
}

/* --- a rank that dies ---------------------------------------------------------------------
 * mpirun then ends the job with SIGTERM: rank 0 says so, then lets the library's handler
 * (ptd_output_handle_signals, installed by cli_init) remove its temporary files and die. */
static struct sigaction lib_term;
static char term_msg[200];
static size_t term_len;

static void on_term(int sig)
{
    if (term_len) {
        ssize_t w = write(STDERR_FILENO, term_msg, term_len);
        (void)w;
    }
    if (lib_term.sa_handler != SIG_DFL && lib_term.sa_handler != SIG_IGN) lib_term.sa_handler(sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The job is over under us: say so, remove the temporary files, die of SIGTERM. */
static void job_ended(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* on_term runs as a handler would, nothing interrupting it */
    on_term(SIGTERM);
    _exit(CLI_FAIL); /* not reached */
}

static void catch_term(void)
{
    snprintf(term_msg, sizeof term_msg,
             "%s: the job was ended (a rank died or mpirun was stopped): no output written\n", cli_prog());
    term_len = strlen(term_msg);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigfillset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &lib_term);
}

int main(int argc, char **argv)
{
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "pspec-mpi: MPI_Init failed\n");
        return CLI_FAIL;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    if (rank != 0) {
        int rc = worker();
        MPI_Finalize();
        return rc;
    }
    main_thread = pthread_self();
    atexit(end_mpi);
    cli_init(argv[0]);
    catch_term();
    char note[80];
    snprintf(note, sizeof note, "mpi ranks: %d", ranks);
    mpi_ctx c;
    memset(&c, 0, sizeof c);
    pspec_driver d = {.grid = mpi_grid, .ctx = &c, .note = note, .summary = c.summary, .ranks = ranks};
    int rc = pspec_run(argc, argv, &d);
    end_mpi();
    return rc;
}
