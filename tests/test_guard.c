/* test_guard.c - every matrix libptd hands to LAPACK is read only where it lies.
 *
 * This program replaces malloc, calloc, realloc and free (ELF interposition: the library's
 * calls come here too).  While `guard` is on, every block of 4 KiB or more is placed so that
 * it ends where a page with no access begins (mmap, mprotect PROT_NONE): a read past the
 * end of a block is a crash here, where malloc's usual slack hides it.  Debian 12's OpenBLAS
 * 0.3.21 (Sandybridge kernels and later) reads up to one column past the end of the matrix
 * given to zgesvd, zgesdd and zheev/zheevd/zheevr; pspec-mpi crashed about one run in 30 on
 * it, where Open MPI's shared-memory segments follow the heap's mappings.
 *
 * The oracle: each computation under the guard gives, bit for bit, what it gives with the
 * allocator's ordinary blocks (the same code on the same data), and does not crash; the
 * matrix sizes cover LAPACK's unblocked (n = 5) and blocked (n = 40, 200) paths.
 * Skipped under AddressSanitizer, which owns malloc itself and finds such reads its way. */
#define _GNU_SOURCE
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GUARD_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GUARD_SKIP 1
#endif
#endif

#ifndef GUARD_SKIP
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

enum { GUARD_MIN = 4096, GUARD_SLOTS = 8192 };
static struct {
    void *p, *base;
    size_t size, len;
} slots[GUARD_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int guard = 0;
static size_t guarded_blocks = 0;

static void *guarded(size_t size)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), body = (size + 15) / 16 * 16;
    size_t len = (body + pg - 1) / pg * pg + pg;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    mprotect(base + len - pg, pg, PROT_NONE);
    /* 16-byte aligned, as malloc's blocks: the end is within 15 bytes of the guard page */
    char *p = base + len - pg - body;
    pthread_mutex_lock(&lock);
    size_t k = 0;
    while (k < GUARD_SLOTS && slots[k].p) k++;
    if (k == GUARD_SLOTS) {
        pthread_mutex_unlock(&lock);
        munmap(base, len);
        return NULL;
    }
    slots[k].p = p;
    slots[k].base = base;
    slots[k].size = size;
    slots[k].len = len;
    guarded_blocks++;
    pthread_mutex_unlock(&lock);
    return p;
}

/* The slot of p, or -1: a block this allocator made. */
static long slot_of(const void *p)
{
    if (!p) return -1;
    for (long k = 0; k < GUARD_SLOTS; k++)
        if (slots[k].p == p) return k;
    return -1;
}

void *malloc(size_t size) { return guard && size >= GUARD_MIN ? guarded(size) : __libc_malloc(size); }

void *calloc(size_t n, size_t size)
{
    if (guard && size && n <= SIZE_MAX / size && n * size >= GUARD_MIN) return guarded(n * size); /* mmap zeroes */
    return __libc_calloc(n, size);
}

void free(void *p)
{
    pthread_mutex_lock(&lock);
    long k = slot_of(p);
    if (k >= 0) {
        void *base = slots[k].base;
        size_t len = slots[k].len;
        slots[k].p = NULL;
        pthread_mutex_unlock(&lock);
        munmap(base, len);
        return;
    }
    pthread_mutex_unlock(&lock);
    __libc_free(p);
}

void *realloc(void *p, size_t size)
{
    pthread_mutex_lock(&lock);
    long k = slot_of(p);
    size_t old = k >= 0 ? slots[k].size : 0;
    pthread_mutex_unlock(&lock);
    if (k < 0 && !(guard && size >= GUARD_MIN)) return __libc_realloc(p, size);
    if (k < 0 && p) {
        /* a libc block growing into a guarded one: its old size is not known here, so it
         * stays with libc (only blocks made under the guard are guarded) */
        return __libc_realloc(p, size);
    }
    void *q = malloc(size);
    if (!q) return NULL;
    if (p) memcpy(q, p, old < size ? old : size);
    free(p);
    return q;
}

/* --- the computations ------------------------------------------------------------------- */

/* What each size computes: the values, compared bit for bit between the two runs. */
enum { NVALS = 10 };

static void compute(const char *spec, size_t n, double *v)
{
    ptd_system *s = NULL;
    ck_assert_int_eq(ptd_zoo_make(spec, n, 7, &s), PTD_OK);
    /* zgesvd (the norm), zheev (the numerical abscissa), zheevr (the field of values) */
    ck_assert_int_eq(ptd_matrix_norm2(s->A, &v[0]), PTD_OK);
    ck_assert_int_eq(ptd_cond_numerical_abscissa(s->A, &v[1]), PTD_OK);
    ptd_box b;
    ck_assert_int_eq(ptd_fov_box(s->A, &b), PTD_OK);
    v[2] = b.xmax;
    v[3] = b.ymax;
    /* a plan (zgees, or the exact triangular one) and sigma_min by the dense SVD (zgesvd on
     * the workspace's matrix) */
    ptd_pspec_plan *p = NULL;
    ck_assert_int_eq(ptd_pspec_plan_create(s->A, &p), PTD_OK);
    ptd_pspec_work *w = ptd_pspec_work_alloc(p);
    ck_assert_ptr_nonnull(w);
    ptd_pspec_opts o = {0};
    o.method = PTD_PSPEC_SVD;
    ptd_pspec_point r;
    ck_assert_int_eq(ptd_pspec_sigma_min(p, w, 0.25 + 0.5 * I, &o, &r), PTD_OK);
    v[4] = r.sigma;
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(p);
    /* eigenvectors and their condition (zgesvd of V) */
    ptd_eig *e = NULL;
    ck_assert_int_eq(ptd_cond_eig(s->A, &e), PTD_OK);
    ck_assert_int_eq(ptd_cond_kappa(e->V, &v[5]), PTD_OK);
    ptd_eig_free(e);
    /* a random PTD perturbation and its backward error (the SVDs of the perturb module) */
    ptd_ptd *d = NULL;
    ck_assert_int_eq(ptd_perturb_random(s->A, s->B, NULL, 1e-6, 11, &d), PTD_OK);
    ck_assert_int_eq(ptd_perturb_backward_error(s->A, d, &v[6]), PTD_OK);
    ptd_ptd_free(d);
    v[7] = (double)n;
    /* the NPLR transfer function (zheevd of the normal part) where there is one */
    v[8] = 0;
    if (s->P && s->B) {
        ptd_tf *t = NULL;
        ck_assert_int_eq(ptd_tf_nplr_create(s->A, s->P, s->B, s->B, &t), PTD_OK);
        v[8] = cabs(ptd_tf_eval1(t, 0.5 * I));
        ptd_tf_free(t);
    }
    /* an optimised PTD perturbation (zgesdd), a few steps, at the small sizes */
    v[9] = 0;
    if (n <= 40) {
        ptd_perturb_opts po = {.max_rel = 1e-3, .steps = 5, .seed = 3, .starts = 1};
        ptd_ptd *q = NULL;
        ck_assert_msg(ptd_perturb_optimize(s->A, s->B, NULL, &po, &q) == PTD_OK, "%s", ptd_last_error());
        ck_assert_int_eq(ptd_cond_kappa(q->V, &v[9]), PTD_OK);
        ptd_ptd_free(q);
    }
    ptd_system_free(s);
}

static const struct {
    const char *spec;
    size_t n;
} cases[] = {{"grcar", 5}, {"grcar", 40}, {"grcar", 200}, {"hippo-legs", 40}, {"ginibre", 200}};

START_TEST(test_guarded_equals_plain)
{
    double plain[NVALS], kept[NVALS];
    compute(cases[_i].spec, cases[_i].n, plain);
    size_t before = guarded_blocks;
    guard = 1;
    compute(cases[_i].spec, cases[_i].n, kept);
    guard = 0;
    ck_assert_msg(guarded_blocks > before, "%s n = %zu: no block was guarded", cases[_i].spec, cases[_i].n);
    for (int k = 0; k < NVALS; k++)
        ck_assert_msg(memcmp(&plain[k], &kept[k], sizeof(double)) == 0, "%s n = %zu: value %d: %.17g plain, %.17g guarded",
                      cases[_i].spec, cases[_i].n, k, plain[k], kept[k]);
}
END_TEST

/* The allocator itself: a read one byte past a guarded block faults (so the test above
 * checks what it says), shown in a child process. */
START_TEST(test_guard_faults)
{
    guard = 1;
    volatile unsigned char *p = malloc(10000);
    guard = 0;
    ck_assert_ptr_nonnull((void *)p);
    p[9999] = 1;   /* 10000 is a multiple of 16: the block's last byte is the page's */
    (void)p[10000]; /* the first byte of the guard page */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_guarded_equals_plain, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test_raise_signal(tc, test_guard_faults, SIGSEGV);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    ptd_init();
    return run_suite(suite());
}
#else
int main(void)
{
    puts("SKIP: test_guard under AddressSanitizer (it owns malloc)");
    return 77;
}
#endif
