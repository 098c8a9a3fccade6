/*
 * fuzz_pods — libFuzzer target for a label-selected PodList page
 * (sidecar/kube/kube_json_pods.c: kube_json_pod_list_parse) and an owner's
 * spec.selector (kube_json_owner_selector_parse). The API server's answer
 * is untrusted input: never a crash, a refusal always says why, and a page
 * that parses keeps its bounds (item count, NUL-terminated names, hash a
 * label value, an IP that inet_pton reads). Any violation aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/kube/kube_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const labels[] = {"pod-template-hash", "rollouts-pod-template-hash"};
    struct kube_pod_list l;
    char err[256], *sel = NULL;

    for (size_t k = 0; k < 2; k++) {
        err[0] = '\0';
        if (kube_json_pod_list_parse((const char *)data, size, labels[k], &l, err, sizeof(err)) !=
            0) {
            CHECK(err[0] != '\0');
            continue;
        }
        CHECK(l.n <= KUBE_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            const struct kube_pod_brief *p = &l.items[i];
            unsigned char a[16];

            CHECK(memchr(p->name, '\0', sizeof(p->name)) && p->name[0]);
            CHECK(memchr(p->hash, '\0', sizeof(p->hash)) && kube_label_value_ok(p->hash));
            CHECK(memchr(p->ip, '\0', sizeof(p->ip)));
            CHECK(!p->ip[0] || inet_pton(strchr(p->ip, ':') ? AF_INET6 : AF_INET, p->ip, a) == 1);
        }
        CHECK(!l.continue_token || strlen(l.continue_token) < 1024);
        kube_pod_list_done(&l);
    }
    err[0] = '\0';
    if (kube_json_owner_selector_parse((const char *)data, size, &sel, err, sizeof(err)) == 0) {
        CHECK(sel != NULL);
        free(sel);
    } else {
        CHECK(err[0] != '\0');
    }
    return 0;
}
