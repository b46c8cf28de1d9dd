/* output.c - how libptd writes a file, and why no signal leaves a temporary one behind.
 *
 * Where a file goes: the caller's path with its symbolic links followed (a link is never
 * replaced, its target is written).  A regular file or a new path is written through a
 * temporary file beside it, synced and renamed into place with the old file's mode and
 * owner, so a reader never sees half a file; a device, FIFO or socket cannot be renamed
 * onto and is written in place.  Write errors (ENOSPC from /dev/full) are reported.
 *
 * What a signal leaves: every temporary file and directory is entered, before it exists,
 * into a fixed-size table of paths, and every child process into a table of pids; the
 * handlers that ptd_output_handle_signals installs read only those tables, kill and reap the
 * children, unlink the paths (a directory with whatever is in it) and die of the signal.
 * They may run in any thread, OpenMP and OpenBLAS workers included: nothing here depends on
 * which thread a signal is delivered to.
 */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#ifndef SYS_getdents64
#include <dirent.h>
#endif

/* ------------------------------------------------------------------------------------ */
/* small helpers (shared with plot.c)                                                     */
/* ------------------------------------------------------------------------------------ */

const char *ptdi_base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

char *ptdi_dir_name(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s) return strdup(".");
    if (s == path) return strdup("/");
    return strndup(path, (size_t)(s - path));
}

char *ptdi_concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = b ? strlen(b) : 0, nc = c ? strlen(c) : 0;
    char *s = malloc(na + nb + nc + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    if (nb) memcpy(s + na, b, nb);
    if (nc) memcpy(s + na + nb, c, nc);
    s[na + nb + nc] = '\0';
    return s;
}

int ptdi_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* the registry of temporaries and children                                               */
/* ------------------------------------------------------------------------------------ */

/* A slot goes FREE -> FILLING (its path being copied in) -> LIVE -> FREE; the handler takes
 * a LIVE slot by moving it to TAKEN, so a path is never read while it is rewritten.  Each
 * entry remembers the process that made it: a forked child (gnuplot before its exec) that
 * gets a signal must not remove its parent's files. */
enum { SLOT_FREE, SLOT_FILLING, SLOT_LIVE, SLOT_TAKEN };
#define NTMP 32
#define NKIDS 8

static struct {
    atomic_int state;
    int is_dir;
    pid_t owner;
    char path[PATH_MAX];
} tmps[NTMP];

static struct {
    atomic_int state;
    pid_t pid, owner;
} kids[NKIDS];

/* set by the first handler to run; a temporary made after that removes itself */
static atomic_int dying;

static int slot_claim(atomic_int *state)
{
    int want = SLOT_FREE;
    return atomic_compare_exchange_strong(state, &want, SLOT_FILLING);
}

static void slot_release(atomic_int *state)
{
    int want = SLOT_LIVE;
    atomic_compare_exchange_strong(state, &want, SLOT_FREE); /* TAKEN: the handler has it */
}

void ptdi_die_if_signalled(void)
{
    /* another thread is cleaning up before the process dies of a signal: reporting an
     * error now would race its exit status, so wait for the end */
    while (atomic_load(&dying)) pause();
}

/* Remove a directory we made and everything in it, with async-signal-safe calls only (the
 * handlers use it; gnuplot names its files as it likes). */
static void remove_dir_now(const char *path)
{
#ifdef SYS_getdents64
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        /* entries removed while reading may shift the rest: read from the start again
         * until a pass finds nothing */
        for (int pass = 0; pass < 8; pass++) {
            if (lseek(fd, 0, SEEK_SET) != 0) break;
            int removed = 0;
            for (;;) {
                _Alignas(8) char buf[4096];
                long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
                if (n <= 0) break;
                for (long off = 0; off < n;) {
                    /* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
                    unsigned short reclen;
                    memcpy(&reclen, buf + off + 16, sizeof reclen);
                    const char *name = buf + off + 19;
                    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && unlinkat(fd, name, 0) == 0)
                        removed = 1;
                    off += reclen;
                }
            }
            if (!removed) break;
        }
        close(fd);
    }
#else
    (void)0; /* without getdents64 only an empty directory goes */
#endif
    rmdir(path);
}

/* The handlers' work: kill and reap our children, then remove our temporaries. */
static void cleanup_now(void)
{
    pid_t me = getpid();
    for (int k = 0; k < NKIDS; k++) {
        if (atomic_load(&kids[k].state) != SLOT_LIVE || kids[k].owner != me) continue;
        kill(kids[k].pid, SIGKILL);
        while (waitpid(kids[k].pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    for (int pass = 0; pass < 2; pass++) /* files, then directories */
        for (int k = 0; k < NTMP; k++) {
            int want = SLOT_LIVE;
            if (tmps[k].is_dir != pass || tmps[k].owner != me) continue;
            if (!atomic_compare_exchange_strong(&tmps[k].state, &want, SLOT_TAKEN)) continue;
            if (pass) remove_dir_now(tmps[k].path);
            else unlink(tmps[k].path);
        }
}

static void on_signal(int sig)
{
    if (atomic_exchange(&dying, 1)) {
        /* a second signal, in another thread: the first handler finishes the job */
        for (;;) pause();
    }
    cleanup_now();
    /* die of the signal, so the exit status says so */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    raise(sig);                          /* pending: the signal is blocked in its handler */
    pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* delivered here: the default action */
    _exit(128 + sig);                    /* not reached */
}

/* Every signal whose default action ends the process and that comes from outside it.
 * (Faults such as SIGSEGV are left to the default action and to the sanitizers.) */
static const int fatal_signals[] = {SIGHUP,  SIGINT,  SIGQUIT,   SIGTERM, SIGPIPE, SIGALRM,
                                    SIGUSR1, SIGUSR2, SIGVTALRM, SIGXCPU, SIGXFSZ};

int ptd_output_handle_signals(void)
{
    ptd_clear_error();
    for (size_t k = 0; k < sizeof fatal_signals / sizeof fatal_signals[0]; k++) {
        struct sigaction old, sa;
        if (sigaction(fatal_signals[k], NULL, &old) != 0)
            return ptd_error(PTD_EINVAL, "ptd_output_handle_signals: signal %d: %s", fatal_signals[k],
                             strerror(errno));
        /* a signal ignored on entry stays ignored (nohup, a shell's background job), and a
         * handler someone else installed is theirs */
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigfillset(&sa.sa_mask); /* nothing interrupts the clean-up in this thread */
        sa.sa_flags = SA_RESTART;
        if (sigaction(fatal_signals[k], &sa, NULL) != 0)
            return ptd_error(PTD_EINVAL, "ptd_output_handle_signals: signal %d: %s", fatal_signals[k],
                             strerror(errno));
    }
    return PTD_OK;
}

/* A name nobody else is using: the pid, the time and a counter, mixed. */
static unsigned long name_bits(void)
{
    static atomic_ulong counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long r = (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 30) ^
                      ((unsigned long)getpid() << 16) ^ (atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15UL);
    r ^= r >> 29;
    r *= 0xbf58476d1ce4e5b9UL;
    r ^= r >> 32;
    return r;
}

int ptdi_tmp_create(const char *dir, const char *prefix, int is_dir, mode_t mode, char **name, int *slot)
{
    *name = NULL;
    *slot = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, "%08lx", name_bits() & 0xffffffffUL);
        char *head = ptdi_concat3(dir, "/", prefix);
        char *p = head ? ptdi_concat3(head, suffix, NULL) : NULL;
        free(head);
        if (!p) {
            errno = ENOMEM;
            return -1;
        }
        if (strlen(p) >= PATH_MAX) {
            free(p);
            errno = ENAMETOOLONG;
            return -1;
        }
        /* into the table before it exists, so no moment is uncovered */
        int k = 0;
        while (k < NTMP && !slot_claim(&tmps[k].state)) k++;
        if (k == NTMP) {
            free(p);
            errno = EMFILE;
            return -1;
        }
        strcpy(tmps[k].path, p);
        tmps[k].is_dir = is_dir;
        tmps[k].owner = getpid();
        atomic_store(&tmps[k].state, SLOT_LIVE);
        int fd = is_dir ? mkdir(p, 0700) : open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0) {
            if (atomic_load(&dying)) { /* the handler may have looked before we made it */
                if (is_dir) rmdir(p);
                else unlink(p);
                ptdi_die_if_signalled();
            }
            *name = p;
            *slot = k;
            return is_dir ? 0 : fd;
        }
        int e = errno;
        slot_release(&tmps[k].state);
        free(p);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

void ptdi_tmp_forget(int slot)
{
    if (slot >= 0 && slot < NTMP) slot_release(&tmps[slot].state);
}

void ptdi_tmp_remove(int slot, const char *name)
{
    if (!name) return;
    if (slot >= 0 && slot < NTMP && tmps[slot].is_dir) {
#ifdef SYS_getdents64
        remove_dir_now(name);
#else
        DIR *d = opendir(name);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlinkat(dirfd(d), e->d_name, 0);
            closedir(d);
        }
        rmdir(name);
#endif
    } else {
        unlink(name);
    }
    ptdi_tmp_forget(slot);
}

int ptdi_child_track(pid_t pid)
{
    for (int k = 0; k < NKIDS; k++)
        if (slot_claim(&kids[k].state)) {
            kids[k].pid = pid;
            kids[k].owner = getpid();
            atomic_store(&kids[k].state, SLOT_LIVE);
            return k;
        }
    return -1; /* the child still dies with us (PR_SET_PDEATHSIG); only the wait is lost */
}

void ptdi_child_forget(int slot)
{
    if (slot >= 0 && slot < NKIDS) slot_release(&kids[slot].state);
}

/* ------------------------------------------------------------------------------------ */
/* where a file goes                                                                      */
/* ------------------------------------------------------------------------------------ */

/* The target of the symbolic link `p` (lstat'ed as `sb`), relative to p's directory. */
static char *link_target(const char *p, const struct stat *sb)
{
    size_t cap = sb->st_size > 0 ? (size_t)sb->st_size + 1 : PATH_MAX;
    for (;;) {
        char *t = malloc(cap);
        if (!t) return NULL;
        ssize_t n = readlink(p, t, cap);
        if (n < 0) {
            free(t);
            return NULL;
        }
        if ((size_t)n < cap) {
            t[n] = '\0';
            if (t[0] == '/' || !strchr(p, '/')) return t;
            char *d = ptdi_dir_name(p), *full = d ? ptdi_concat3(d, "/", t) : NULL;
            free(d);
            free(t);
            if (!full) errno = ENOMEM;
            return full;
        }
        free(t); /* the link grew since lstat */
        cap *= 2;
    }
}

void ptdi_dest_free(ptdi_dest *d)
{
    free(d->given);
    free(d->path);
    free(d->dir);
    memset(d, 0, sizeof *d);
}

int ptdi_dest_resolve(const char *path, ptdi_dest *d)
{
    memset(d, 0, sizeof *d);
    d->given = strdup(path);
    char *p = strdup(path);
    if (!d->given || !p) {
        free(p);
        ptdi_dest_free(d);
        return ptd_error(PTD_ENOMEM, "cannot write %s: out of memory", path);
    }
    for (int hops = 0;; hops++) {
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            if (errno == ENOENT) break; /* a new file (or a missing directory, found later) */
            int e = errno;
            free(p);
            ptdi_dest_free(d);
            return ptd_error(PTD_EIO, "cannot write %s: %s", path, strerror(e));
        }
        if (S_ISLNK(sb.st_mode)) {
            char *t = hops < 40 ? link_target(p, &sb) : NULL;
            int e = hops < 40 ? errno : ELOOP;
            free(p);
            if (!t) {
                ptdi_dest_free(d);
                return ptd_error(PTD_EIO, "cannot write %s: %s", path, strerror(e));
            }
            p = t;
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            free(p);
            ptdi_dest_free(d);
            return ptd_error(PTD_EIO, "cannot write %s: %s", path, strerror(EISDIR));
        }
        if (S_ISREG(sb.st_mode)) {
            d->exists = 1;
            d->mode = sb.st_mode & 07777;
            d->uid = sb.st_uid;
            d->gid = sb.st_gid;
        } else {
            d->direct = 1;
        }
        break;
    }
    d->path = p;
    if (!(d->dir = ptdi_dir_name(p))) {
        ptdi_dest_free(d);
        return ptd_error(PTD_ENOMEM, "cannot write %s: out of memory", path);
    }
    return PTD_OK;
}

int ptd_output_check(const char *path)
{
    ptd_clear_error();
    if (!path || !*path) return ptd_error(PTD_EINVAL, "ptd_output_check: path is NULL or empty");
    ptdi_dest d;
    int st = ptdi_dest_resolve(path, &d);
    if (st) return st;
    /* a device or FIFO is opened for writing; anything else needs its directory (the
     * temporary file is made there and renamed) */
    if (access(d.direct ? d.path : d.dir, W_OK) != 0)
        st = ptd_error(PTD_EIO, "cannot write %s: %s", path, strerror(errno));
    ptdi_dest_free(&d);
    return st;
}

/* fsync as far as the file allows: a device or FIFO cannot be synced (EINVAL), which is
 * not a write error. */
static int sync_fd(int fd, int direct)
{
    if (fsync(fd) == 0) return 0;
    return direct && (errno == EINVAL || errno == EROFS || errno == ENOTSUP) ? 0 : -1;
}

/* the rename itself made durable, as far as the directory allows */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* The replaced file's owner and mode for the temporary (best effort for the owner: only
 * root may give a file away). */
static int keep_mode(int fd, const ptdi_dest *d)
{
    if (!d->exists) return 0;
    if (fchown(fd, d->uid, d->gid) != 0) { /* not ours to give: the file becomes ours */ }
    return fchmod(fd, d->mode);
}

/* Test-only: PTD_TEST_SLEEP_IN_SAVE=S (seconds) holds every finished temporary file S
 * seconds before it is renamed into place, so tests/output.sh can deliver signals inside
 * the save window.  Unset, it costs one getenv. */
static void test_sleep_in_save(void)
{
    const char *s = getenv("PTD_TEST_SLEEP_IN_SAVE");
    double t = s ? strtod(s, NULL) : 0;
    if (!(t > 0 && t <= 3600)) return;
    struct timespec ts = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* ------------------------------------------------------------------------------------ */
/* writing one file                                                                       */
/* ------------------------------------------------------------------------------------ */

int ptdi_out_open(ptdi_out *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->slot = -1;
    int st = ptdi_dest_resolve(path, &o->d);
    if (st) return st;
    if (o->d.direct) {
        o->fd = open(o->d.path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    } else {
        /* a new file gets 0666 less the umask, like any file; a replacement starts private
         * and takes the old file's mode before it is renamed */
        o->fd = ptdi_tmp_create(o->d.dir, ".ptdtmp-", 0, o->d.exists ? 0600 : 0666, &o->tmp, &o->slot);
    }
    if (o->fd < 0) {
        int e = errno;
        ptdi_dest_free(&o->d);
        return ptd_error(PTD_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return PTD_OK;
}

int ptdi_out_write(ptdi_out *o, const void *buf, size_t len)
{
    if (ptdi_write_all(o->fd, buf, len) == 0) return PTD_OK;
    return ptd_error(PTD_EIO, "cannot write %s: %s", o->d.given, strerror(errno));
}

static void out_release(ptdi_out *o, int failed)
{
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    if (o->tmp) {
        if (failed) ptdi_tmp_remove(o->slot, o->tmp);
        else ptdi_tmp_forget(o->slot);
    }
    free(o->tmp);
    o->tmp = NULL;
    ptdi_dest_free(&o->d);
}

void ptdi_out_abort(ptdi_out *o) { out_release(o, 1); }

int ptdi_out_commit(ptdi_out *o)
{
    int st = PTD_OK;
    if (!o->d.direct) test_sleep_in_save();
    if (sync_fd(o->fd, o->d.direct) != 0 || (!o->d.direct && keep_mode(o->fd, &o->d) != 0)) {
        st = ptd_error(PTD_EIO, "cannot write %s: %s", o->d.given, strerror(errno));
    } else {
        int fd = o->fd;
        o->fd = -1;
        if (close(fd) != 0) st = ptd_error(PTD_EIO, "cannot write %s: %s", o->d.given, strerror(errno));
        else if (!o->d.direct && rename(o->tmp, o->d.path) != 0)
            st = ptd_error(PTD_EIO, "cannot write %s: %s", o->d.given, strerror(errno));
        else if (!o->d.direct)
            sync_dir(o->d.dir);
    }
    if (st) ptdi_die_if_signalled();
    out_release(o, st != PTD_OK);
    return st;
}

int ptdi_dest_install(const ptdi_dest *d, const char *tmp)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ptd_error(PTD_EIO, "cannot write %s: %s", d->given, strerror(errno));
    if (!d->direct) {
        if (fsync(fd) != 0 || keep_mode(fd, d) != 0) {
            int e = errno;
            close(fd);
            return ptd_error(PTD_EIO, "cannot write %s: %s", d->given, strerror(e));
        }
        if (rename(tmp, d->path) == 0) {
            close(fd);
            sync_dir(d->dir);
            return PTD_OK;
        }
        if (errno != EXDEV) {
            int e = errno;
            close(fd);
            ptdi_die_if_signalled();
            return ptd_error(PTD_EIO, "cannot write %s: %s", d->given, strerror(e));
        }
        /* another file system (a link to elsewhere): copied through a temporary there */
    }
    ptdi_out o;
    int st = ptdi_out_open(&o, d->given);
    char buf[65536];
    while (!st) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) st = ptd_error(PTD_EIO, "cannot write %s: reading %s: %s", d->given, tmp, strerror(errno));
        if (n <= 0) break;
        st = ptdi_out_write(&o, buf, (size_t)n);
    }
    close(fd);
    if (!st) return ptdi_out_commit(&o);
    if (o.fd >= 0 || o.tmp) ptdi_out_abort(&o);
    return st;
}
