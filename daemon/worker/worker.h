/*
 * worker.h - entry point of the sandboxed worker process.
 *
 * Runs in: the worker, started by the supervisor as
 * "tlswardd --worker" with the IPC socket on fd WORKER_IPC_FD and the log
 * socket on fd WORKER_LOG_FD.
 */
#ifndef TLSWARD_WORKER_H
#define TLSWARD_WORKER_H

#define WORKER_IPC_FD	3
#define WORKER_LOG_FD	4

/* Log text prefix by which the worker's SIGSYS handler reports the number
 * of a forbidden system call; the supervisor names it. */
#define WORKER_SECCOMP_TAG	"seccomp-kill nr="

/* Serves until drained or orphaned; returns an exit status only when
 * setup fails. */
int	worker_main(int ipc_fd, int log_fd);

#endif
