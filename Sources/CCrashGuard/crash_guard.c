#include "kd_crash_guard.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// The calling thread's note, NULL outside guarded reads.
static _Thread_local const kd_crash_note *current = NULL;
/// The handlers installed before the guard, for SIGSEGV (0) and SIGBUS (1).
static struct sigaction previous[2];

static void handler(int signal, siginfo_t *info, void *context) {
    (void)info;
    (void)context;
    const kd_crash_note *note = current;
    if (note != NULL) {
        ssize_t written = write(STDERR_FILENO, note->line, note->length);
        (void)written;
        _exit(2);
    }
    // Outside a guarded read: restore the previous handler; the faulting
    // instruction runs again and reaches it.
    sigaction(signal, &previous[signal == SIGBUS ? 1 : 0], NULL);
}

int kd_crash_guard_install(void) {
    // A fault after a runaway recursion has no stack left to run on.
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_size = 64 * 1024;
    stack.ss_sp = malloc(stack.ss_size);
    if (stack.ss_sp != NULL && sigaltstack(&stack, NULL) != 0) free(stack.ss_sp);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &previous[0]) != 0) return -1;
    return sigaction(SIGBUS, &action, &previous[1]);
}

const kd_crash_note *kd_crash_guard_enter(const kd_crash_note *note) {
    const kd_crash_note *before = current;
    current = note;
    return before;
}

void kd_crash_guard_leave(const kd_crash_note *before) { current = before; }
