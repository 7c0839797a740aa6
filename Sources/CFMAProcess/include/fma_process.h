#ifndef FMA_PROCESS_H
#define FMA_PROCESS_H

/* Process plumbing Swift cannot call directly (variadic calls, raw syscalls, posix_spawn
 * attributes): used by the launcher to start, watch and adopt instances. Linux only. */

#include <sys/types.h>

/* pidfd_open(2): a descriptor that becomes readable when `pid` exits. -1 with errno on failure. */
int fma_pidfd_open(pid_t pid);

/* Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER), so that
 * instances whose zygote died are reparented here and their exit codes can be collected.
 * 0, or -1 with errno. */
int fma_set_child_subreaper(void);

/* Asks the kernel to send `signal` to this process when its parent dies (PR_SET_PDEATHSIG). */
int fma_set_parent_death_signal(int signal);

/* Starts `path` with posix_spawn:
 *   - a new session and process group when `new_session` is non-zero;
 *   - every signal at its default disposition, an empty signal mask;
 *   - stdin from /dev/null; stdout and stderr appended to `log_path` (created 0644), or
 *     inherited when `log_path` is NULL;
 *   - `pass_fd` (when >= 0) duplicated onto `pass_fd_target`; every other descriptor above 2
 *     (and above `pass_fd_target`) closed in the child.
 * Returns 0 and sets *pid, or an errno value. */
int fma_spawn(const char *path, char *const argv[], char *const envp[], const char *log_path,
              int new_session, int pass_fd, int pass_fd_target, pid_t *pid);

/* Starts `path` as `fma_spawn` does with a new session, and the child gets SIGKILL when the
 * thread that called this exits (PR_SET_PDEATHSIG; a child whose parent died before it could
 * ask is not started): call it from a thread that lives as long as the process, so that the
 * child dies with the process however it dies. Uses fork: the child calls only
 * async-signal-safe functions before execve. Returns 0 and sets *pid, or an errno value (the
 * child's execve error included). */
int fma_spawn_dying_with_parent(const char *path, char *const argv[], char *const envp[], const char *log_path,
                                pid_t *pid);

/* Turns the given signals into bytes on a pipe (the self-pipe trick): a handler, safe in any
 * thread, writes each signal's number to the pipe; returns the pipe's read end (non-blocking,
 * close-on-exec), or -1 with errno. For loops that wait on signals and other events at once. */
int fma_signal_pipe(const int *signals, int count);

/* Limits glibc's malloc arenas to `count` (mallopt M_ARENA_MAX); returns 1 on success, 0 where
 * it cannot (another C library, or glibc refused). */
int fma_malloc_arena_max(int count);

#endif
