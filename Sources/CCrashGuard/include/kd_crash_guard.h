#ifndef KERASDELTA_CRASH_GUARD_H
#define KERASDELTA_CRASH_GUARD_H

#include <stddef.h>

// libhdf5 1.10 can fault on some corrupted files. A command-line tool installs
// this guard so that a fault while a read is guarded ends the process with
// one prepared line on stderr and exit status 2; a fault anywhere else goes
// to the handler that was there before.
//
// The state lives in crash_guard.c, once per process. (It used to live in
// `static inline` functions of the CHDF5 header, and every Swift module or
// LLVM unit that emitted those functions got its own copy of the thread-local
// note: once a read was inlined into another module, the handler read a copy
// that was never set, saw no guarded read, and let the process die.)

typedef struct {
    const char *line;
    size_t length;
} kd_crash_note;

/// Installs the handler for SIGSEGV and SIGBUS, with an alternate signal
/// stack for the calling thread; 0 on success.
int kd_crash_guard_install(void);

/// Makes `note` the line printed if the calling thread faults; returns the
/// previous one, to give back to `kd_crash_guard_leave`.
const kd_crash_note *kd_crash_guard_enter(const kd_crash_note *note);

void kd_crash_guard_leave(const kd_crash_note *previous);

#endif
