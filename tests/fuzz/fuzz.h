/* fuzz.h - shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput and checks, beyond "no crash, no leak, no
 * sanitizer report", the contract of ptd.h for every input: a failing call returns a
 * status of enum ptd_status, leaves its output NULL and records a one-line message; a
 * succeeding one gives a result that survives a round trip through its writer.  A broken
 * contract aborts, so libFuzzer keeps the input and the replay driver reports it. */
#ifndef PTD_FUZZ_H
#define PTD_FUZZ_H

#define _GNU_SOURCE /* memfd_create, fmemopen, open_memstream */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ptd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond, ...)                                                     \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
            abort();                                                                \
        }                                                                           \
    } while (0)

static inline void fuzz_init_once(void)
{
    static int done;
    if (!done) ptd_init(), done = 1;
}

/* A failed call's contract: a known status, no output, one non-empty line.  Never
 * PTD_ENOMEM: no valid input of a fuzzer's size needs more than the 1 GiB of an 8192 x 8192
 * matrix, so running out of memory means a header was trusted (libFuzzer's -malloc_limit_mb
 * reports the allocation itself; the replay driver caps the address space). */
static inline void fuzz_failed(int st, const void *out)
{
    const char *msg = ptd_last_error();
    FUZZ_REQUIRE(st > PTD_OK && st <= PTD_EEXTERN && st != PTD_ENOMEM, "status %d: %s", st, msg);
    FUZZ_REQUIRE(out == NULL, "output set on failure (%s)", msg);
    FUZZ_REQUIRE(msg[0] != '\0', "status %d without a message", st);
    FUZZ_REQUIRE(!strchr(msg, '\n'), "message of more than one line: %s", msg);
}

/* The input as a file with a path, in memory (memfd): the path readers take paths. */
typedef struct {
    int fd;
    char path[64];
} fuzz_file;

static inline void fuzz_file_open(fuzz_file *f, const void *data, size_t size)
{
    f->fd = memfd_create("fuzz", 0);
    FUZZ_REQUIRE(f->fd >= 0, "memfd_create failed");
    for (size_t done = 0; done < size;) {
        ssize_t w = write(f->fd, (const char *)data + done, size - done);
        FUZZ_REQUIRE(w > 0, "writing the memfd failed");
        done += (size_t)w;
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
}

static inline void fuzz_file_close(fuzz_file *f) { close(f->fd); }

/* A memory stream over the input; NULL for an empty input (fmemopen refuses size 0), then
 * an empty temporary file. */
static inline FILE *fuzz_stream(const void *data, size_t size)
{
    if (size == 0) return tmpfile();
    return fmemopen((void *)data, size, "r");
}

#endif
