/*
 * main — the composition root: parse the command line, load the config,
 * set up libcurl and logging, build the daemon, run it, tear down in
 * reverse. Exit status: 0 done, 1 could not run, 2 bad usage or config.
 */
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "probes/curlm.h"
#include "sidecar/daemon.h"
#include "sidecar/doctor.h"
#include "sidecar/base/log.h"
#include "sidecar/rollback_cli.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: rollguard [--config FILE]\n"
            "       rollguard rollback [--to-revision N] [--dry-run] [--config FILE]\n"
            "       rollguard check-metrics [URL] [--config FILE]\n"
            "       rollguard --check-config [--config FILE]\n"
            "       rollguard --print-default-config | --print-reference\n"
            "       rollguard --version | --help\n"
            "\n"
            "A sidecar that answers the kubelet's probes for the app in its pod, watches the\n"
            "app's errors and latency, and undoes a bad rollout once.\n"
            "\n"
            "  -c, --config FILE         YAML config (default: the embedded defaults)\n"
            "      check-metrics [URL]   print what rollguard reads from the app's metrics page\n"
            "                            (URL default: app.metrics.url); exit 0 ok, 1 a rule\n"
            "                            cannot be judged, 2 unreadable (check-metrics --help)\n"
            "      --check-config        validate the config and exit: 0 valid, 2 invalid\n"
            "                            (each problem as FILE:LINE:COLUMN: message)\n"
            "      --print-default-config  print the embedded default config\n"
            "      --print-reference     print every config key as a Markdown table\n"
            "  -V, --version             print the version\n"
            "  -h, --help                print this help\n"
            "\n"
            "Endpoints on `listen`: /health /ready /livez /metrics /status\n"
            "On `admin_listen`: POST /rollback, GET /check-metrics, and the endpoints above\n"
            "Signals: SIGHUP reloads the config; SIGTERM/SIGINT drain and exit.\n");
}

static int load_config(const char *path, struct cfg **ret)
{
    struct cfg_errs errs;
    char text[CFG_MAX_ERRORS * 300];
    int r;

    memset(&errs, 0, sizeof(errs));
    r = path ? cfg_load(path, ret, &errs) : cfg_default(ret, &errs);
    if (r < 0) {
        cfg_errs_render(&errs, path ? path : "(embedded defaults)", text, sizeof(text));
        fputs(text, stderr);
        if (errs.n == 0)
            fprintf(stderr, "%s: %s\n", path ? path : "(embedded defaults)", strerror(-r));
    }
    return r;
}

static int print_reference(void)
{
    size_t need = cfg_render_reference(NULL, 0);
    char *buf = malloc(need + 1);

    if (!buf)
        return 1;
    cfg_render_reference(buf, need + 1);
    fputs(buf, stdout);
    free(buf);
    return 0;
}

/*
 * A metrics page is one large buffer, fetched and freed every scrape. glibc
 * would raise its mmap threshold after the first free and keep later pages
 * on the heap, resident for good; a fixed threshold maps each large buffer
 * and gives it back when the scrape is done, so RSS follows the work. One
 * arena: the resolver's short-lived threads need no heaps of their own.
 */
static void main_tune_malloc(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024);
    mallopt(M_ARENA_MAX, 1);
#endif
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"print-default-config", no_argument, NULL, 'd'},
        {"print-reference", no_argument, NULL, 'r'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool check_only = false;
    struct cfg *cfg = NULL;
    struct daemon *d = NULL;
    char err[256];
    int c, status = 1;

    main_tune_malloc();
    if (argc > 1 && !strcmp(argv[1], "rollback"))
        return rollback_cli_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "check-metrics"))
        return doctor_cli_main(argc - 1, argv + 1);
    while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check_only = true;
            break;
        case 'd':
            fputs(cfg_default_yaml(), stdout);
            return 0;
        case 'r':
            return print_reference();
        case 'V':
            printf("rollguard %s (%s)\n", ROLLGUARD_VERSION, ROLLGUARD_REVISION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rollguard: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }

    if (load_config(path, &cfg) < 0)
        return EXIT_USAGE;
    if (check_only) {
        printf("%s: ok (hash %s)\n", cfg->source, cfg->hash);
        cfg_unref(cfg);
        return 0;
    }

    log_setup((enum log_level)cfg->log_level, cfg->log_format == CFG_LOG_JSON);
    /* Peers that hang up mid-reply must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (curlm_global_init(err, sizeof(err)) < 0) {
        log_event(LOG_LVL_ERROR, "startup_failed", LF_S("error", err));
        goto out;
    }
    if (daemon_new(cfg, path, &d) < 0)
        goto out_curl;
    status = daemon_run(d);
    d = daemon_free(d);
out_curl:
    curlm_global_done();
out:
    cfg_unref(cfg);
    return status;
}
