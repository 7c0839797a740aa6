#define _GNU_SOURCE
#include "fma_process.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int fma_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int fma_set_child_subreaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int fma_set_parent_death_signal(int signal)
{
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

int fma_spawn(const char *path, char *const argv[], char *const envp[], const char *log_path,
              int new_session, int pass_fd, int pass_fd_target, pid_t *pid)
{
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    int result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        return result;
    }
    result = posix_spawn_file_actions_init(&actions);
    if (result != 0) {
        posix_spawnattr_destroy(&attributes);
        return result;
    }

    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (new_session) {
        flags |= POSIX_SPAWN_SETSID;
    }
    if ((result = posix_spawnattr_setflags(&attributes, flags)) != 0 ||
        (result = posix_spawnattr_setsigdefault(&attributes, &all)) != 0 ||
        (result = posix_spawnattr_setsigmask(&attributes, &none)) != 0) {
        goto done;
    }

    if ((result = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) != 0) {
        goto done;
    }
    if (log_path != NULL) {
        if ((result = posix_spawn_file_actions_addopen(&actions, 1, log_path,
                                                       O_WRONLY | O_CREAT | O_APPEND, 0644)) != 0 ||
            (result = posix_spawn_file_actions_adddup2(&actions, 1, 2)) != 0) {
            goto done;
        }
    }
    int first_to_close = 3;
    if (pass_fd >= 0) {
        if ((result = posix_spawn_file_actions_adddup2(&actions, pass_fd, pass_fd_target)) != 0) {
            goto done;
        }
        if (pass_fd_target >= first_to_close) {
            first_to_close = pass_fd_target + 1;
        }
    }
    if ((result = posix_spawn_file_actions_addclosefrom_np(&actions, first_to_close)) != 0) {
        goto done;
    }
    result = posix_spawn(pid, path, &actions, &attributes, argv, envp);

done:
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return result;
}

int fma_spawn_dying_with_parent(const char *path, char *const argv[], char *const envp[], const char *log_path,
                                pid_t *pid)
{
    pid_t parent = getpid();
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) != 0) {
        return errno;
    }
    pid_t child = fork();
    if (child < 0) {
        int saved = errno;
        close(error_pipe[0]);
        close(error_pipe[1]);
        return saved;
    }
    if (child == 0) {
        /* The child: async-signal-safe calls only until execve. Any failure is written to the
         * error pipe (closed by a successful execve) as an errno value. */
        int failure = 0;
        if (setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
            failure = errno;
        } else if (getppid() != parent) {
            /* The parent died before the request: nobody would stop this child. */
            _exit(127);
        }
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = SIG_DFL;
        for (int number = 1; number < NSIG; number++) {
            (void)sigaction(number, &action, NULL);
        }
        sigset_t none;
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (failure == 0) {
            int input = open("/dev/null", O_RDONLY);
            if (input < 0 || dup2(input, 0) < 0) {
                failure = errno;
            }
        }
        if (failure == 0 && log_path != NULL) {
            int output = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (output < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0) {
                failure = errno;
            }
        }
        if (failure == 0) {
            /* Every other descriptor but the error pipe (close-on-exec). */
            unsigned int keep = (unsigned int)error_pipe[1];
            if (keep > 3) {
                (void)syscall(SYS_close_range, 3U, keep - 1, 0);
            }
            (void)syscall(SYS_close_range, keep + 1, ~0U, 0);
            execve(path, argv, envp);
            failure = errno;
        }
        ssize_t ignored = write(error_pipe[1], &failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }
    close(error_pipe[1]);
    int failure = 0;
    ssize_t count;
    do {
        count = read(error_pipe[0], &failure, sizeof failure);
    } while (count < 0 && errno == EINTR);
    close(error_pipe[0]);
    if (count == (ssize_t)sizeof failure) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        return failure != 0 ? failure : ECHILD;
    }
    *pid = child;
    return 0;
}

static int signal_pipe_write = -1;

static void write_signal(int number)
{
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    ssize_t ignored = write(signal_pipe_write, &byte, 1);
    (void)ignored;
    errno = saved;
}

int fma_signal_pipe(const int *signals, int count)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        return -1;
    }
    signal_pipe_write = fds[1];
    for (int index = 0; index < count; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = write_signal;
        action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[index], &action, NULL) != 0) {
            return -1;
        }
    }
    return fds[0];
}

int fma_malloc_arena_max(int count) {
#if defined(__GLIBC__)
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}
