/*
 * daemon — the running sidecar: one event loop with the HTTP listeners,
 * the app probes, signals and config reload.
 */
#ifndef ROLLGUARD_DAEMON_H
#define ROLLGUARD_DAEMON_H

#include "config/cfg.h"

struct analysis_params;
struct daemon;

/*
 * Build every module for cfg (a reference is taken) and bind the
 * listeners. cfg_path is the file to reload from (NULL: embedded defaults,
 * no reload). Returns 0 and *ret, or -errno after logging why.
 */
int daemon_new(struct cfg *cfg, const char *cfg_path, struct daemon **ret);

/* Run until SIGTERM/SIGINT and the drain are over. Returns the exit status. */
int daemon_run(struct daemon *d);

/* Tear everything down in reverse order. NULL-safe; returns NULL. */
struct daemon *daemon_free(struct daemon *d);

/*
 * The analysis settings of c, as the daemon runs them: the one mapping
 * from config keys to struct analysis_params (the replay simulator and the
 * analysis tests start from it with the embedded defaults).
 */
void daemon_analysis_params(const struct cfg *c, struct analysis_params *p);

#endif
