/* replay.c - runs a fuzz harness over files without a fuzzing engine, built by the normal
 * compiler for make check: each argument is a file or a directory of files, each file one
 * input.  Prints "PASS: NAME" after each input (a broken contract aborts in the harness, so
 * the last line names the input before the one that failed). */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, r;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
        r = fread(buf + len, 1, cap - len, f);
        len += r;
    } while (r > 0);
    fclose(f);
    /* the exact size, so that ASan sees a read past the input */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) abort();
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    printf("PASS: %s\n", path);
    fflush(stdout);
    return 0;
}

/* The address space capped at its present size plus 1536 MB: above the 1 GiB a valid
 * input may ask for, below what a trusted header asks for (3 to 15 GB in the regression
 * inputs).  Not under AddressSanitizer, whose shadow memory reserves terabytes. */
static void cap_memory(void)
{
#if defined __SANITIZE_ADDRESS__
#define REPLAY_ASAN 1
#elif defined __has_feature
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif
#ifndef REPLAY_ASAN
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages;
    if (!f) return;
    if (fscanf(f, "%lu", &pages) == 1) {
        struct rlimit rl;
        getrlimit(RLIMIT_AS, &rl);
        rlim_t want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1536 << 20);
        if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) {
            rl.rlim_cur = want;
            setrlimit(RLIMIT_AS, &rl);
        }
    }
    fclose(f);
#endif
}

int main(int argc, char **argv)
{
    int bad = 0;
    fuzz_init_once();
    cap_memory();
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) {
            bad |= run_file(argv[a]);
            continue;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            names = realloc(names, (n + 1) * sizeof *names);
            if (!names) abort();
            size_t l = strlen(argv[a]) + strlen(e->d_name) + 2;
            names[n] = malloc(l);
            snprintf(names[n++], l, "%s/%s", argv[a], e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t k = 0; k < n; k++) bad |= run_file(names[k]), free(names[k]);
        free(names);
    }
    return bad;
}
