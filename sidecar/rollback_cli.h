/*
 * rollback_cli — `rollguard rollback [--to-revision N] [--dry-run]
 * [--config FILE]`: the runbook's manual undo as a one-shot command on its
 * own event loop, through the same rollback job (and checks) as the daemon.
 */
#ifndef ROLLGUARD_ROLLBACK_CLI_H
#define ROLLGUARD_ROLLBACK_CLI_H

#define ROLLBACK_CLI_EXIT_OK 0    /* rolled back (or dry-run done) */
#define ROLLBACK_CLI_EXIT_ERROR 1 /* API or setup error */
#define ROLLBACK_CLI_EXIT_USAGE 2
#define ROLLBACK_CLI_EXIT_REFUSED 3 /* a guard refused; the reason is printed */
#define ROLLBACK_CLI_DEADLINE_MS 120000

/*
 * argv[0] is "rollback". Prints the outcome on stdout (errors on stderr),
 * logs like the daemon. Returns one of the exit codes above.
 */
int rollback_cli_main(int argc, char **argv);

#endif
