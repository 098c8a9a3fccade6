/*
 * kube_fixtures.h — API objects for the kube unit tests, generated from
 * tests/fakeapi/seed_web.json (the shared reference's section 9.2 fixture plus an
 * RS owned by another Deployment and one without a revision annotation).
 */
#ifndef ROLLGUARD_TEST_KUBE_FIXTURES_H
#define ROLLGUARD_TEST_KUBE_FIXTURES_H

/* generated text, wrapped where the generator cut it */
/* clang-format off */

#define FIX_DEPLOYMENT \
    "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\",\"u" \
    "id\":\"6b3c8f2e-0000-4000-8000-000000000001\",\"resourceVersion\":\"48213\",\"generation\":2,\"creat" \
    "ionTimestamp\":\"2026-07-20T09:00:00Z\",\"labels\":{\"app\":\"web\"},\"annotations\":{\"deployment.kub" \
    "ernetes.io/revision\":\"2\",\"kubernetes.io/change-cause\":\"image v2\"}},\"spec\":{\"replicas\":3,\"s" \
    "elector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"sp" \
    "ec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/web:v2\",\"resources\":{},\"termina" \
    "tionMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy" \
    "\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\"" \
    ":\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}},\"strategy\":{\"ty" \
    "pe\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}},\"revisionHi" \
    "storyLimit\":10,\"progressDeadlineSeconds\":600},\"status\":{\"observedGeneration\":2,\"replicas\":" \
    "3,\"updatedReplicas\":1,\"readyReplicas\":2,\"availableReplicas\":2,\"unavailableReplicas\":1,\"con" \
    "ditions\":[{\"type\":\"Progressing\",\"status\":\"True\",\"lastUpdateTime\":\"2026-07-24T09:59:00Z\",\"l" \
    "astTransitionTime\":\"2026-07-24T09:59:00Z\",\"reason\":\"ReplicaSetUpdated\",\"message\":\"ReplicaS" \
    "et \\\"web-7c5d9f8b4\\\" is progressing.\"}]}}"

#define FIX_RS_LIST \
    "{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":\"48220\"},\"it" \
    "ems\":[{\"metadata\":{\"name\":\"web-5d8f7c9b6d\",\"namespace\":\"prod\",\"uid\":\"aaaa0000-0000-4000-80" \
    "00-000000000001\",\"resourceVersion\":\"47001\",\"generation\":3,\"creationTimestamp\":\"2026-07-20T" \
    "09:00:00Z\",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"5d8f7c9b6d\"},\"annotations\":{\"deploym" \
    "ent.kubernetes.io/desired-replicas\":\"3\",\"deployment.kubernetes.io/max-replicas\":\"4\",\"deplo" \
    "yment.kubernetes.io/revision\":\"1\",\"kubernetes.io/change-cause\":\"image v1\"},\"ownerReference" \
    "s\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"6b3c8f2e-0000-4000-800" \
    "0-000000000001\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{\"replicas\":2,\"selec" \
    "tor\":{\"matchLabels\":{\"app\":\"web\",\"pod-template-hash\":\"5d8f7c9b6d\"}},\"template\":{\"metadata\"" \
    ":{\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"5d8f7c9b6d\"}},\"spec\":{\"containers\":[{\"name\":\"" \
    "app\",\"image\":\"registry.example/web:v1\",\"resources\":{},\"terminationMessagePath\":\"/dev/termi" \
    "nation-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],\"restartP" \
    "olicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"securityCon" \
    "text\":{},\"schedulerName\":\"default-scheduler\"}}},\"status\":{\"replicas\":2,\"fullyLabeledReplic" \
    "as\":2,\"readyReplicas\":2,\"availableReplicas\":2,\"observedGeneration\":3}},{\"metadata\":{\"name\"" \
    ":\"web-7c5d9f8b4\",\"namespace\":\"prod\",\"uid\":\"bbbb0000-0000-4000-8000-000000000002\",\"resource" \
    "Version\":\"48100\",\"generation\":1,\"creationTimestamp\":\"2026-07-24T09:59:00Z\",\"labels\":{\"app\"" \
    ":\"web\",\"pod-template-hash\":\"7c5d9f8b4\"},\"annotations\":{\"deployment.kubernetes.io/desired-r" \
    "eplicas\":\"3\",\"deployment.kubernetes.io/max-replicas\":\"4\",\"deployment.kubernetes.io/revisio" \
    "n\":\"2\",\"kubernetes.io/change-cause\":\"image v2\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\"" \
    ",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"6b3c8f2e-0000-4000-8000-000000000001\",\"controller" \
    "\":true,\"blockOwnerDeletion\":true}]},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":" \
    "\"web\",\"pod-template-hash\":\"7c5d9f8b4\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\",\"pod" \
    "-template-hash\":\"7c5d9f8b4\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.exampl" \
    "e/web:v2\",\"resources\":{},\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessa" \
    "gePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"terminationG" \
    "racePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":\"def" \
    "ault-scheduler\"}}},\"status\":{\"replicas\":2,\"readyReplicas\":0,\"availableReplicas\":0,\"observe" \
    "dGeneration\":1}},{\"metadata\":{\"name\":\"web-canary-6f9c8d7b5\",\"namespace\":\"prod\",\"uid\":\"dddd" \
    "0000-0000-4000-8000-000000000004\",\"resourceVersion\":\"46500\",\"generation\":1,\"creationTimest" \
    "amp\":\"2026-07-22T08:00:00Z\",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"6f9c8d7b5\"},\"annota" \
    "tions\":{\"deployment.kubernetes.io/desired-replicas\":\"1\",\"deployment.kubernetes.io/max-repl" \
    "icas\":\"2\",\"deployment.kubernetes.io/revision\":\"7\",\"kubernetes.io/change-cause\":\"canary\"},\"" \
    "ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web-canary\",\"uid\":\"e" \
    "eee0000-0000-4000-8000-000000000005\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\"" \
    ":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\",\"pod-template-hash\":\"6f9c8d7b5\"}},\"t" \
    "emplate\":{\"metadata\":{\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"6f9c8d7b5\"}},\"spec\":{\"con" \
    "tainers\":[{\"name\":\"app\",\"image\":\"registry.example/web:canary\",\"resources\":{},\"terminationM" \
    "essagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"If" \
    "NotPresent\"}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"Clu" \
    "sterFirst\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}}},\"status\":{\"replicas" \
    "\":1,\"readyReplicas\":1,\"availableReplicas\":1,\"observedGeneration\":1}},{\"metadata\":{\"name\":\"" \
    "web-84c6b5f9d7\",\"namespace\":\"prod\",\"uid\":\"ffff0000-0000-4000-8000-000000000006\",\"resourceV" \
    "ersion\":\"45000\",\"generation\":2,\"creationTimestamp\":\"2026-07-18T07:00:00Z\",\"labels\":{\"app\":" \
    "\"web\",\"pod-template-hash\":\"84c6b5f9d7\"},\"annotations\":{\"deployment.kubernetes.io/desired-r" \
    "eplicas\":\"3\",\"deployment.kubernetes.io/max-replicas\":\"4\"},\"ownerReferences\":[{\"apiVersion\"" \
    ":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"6b3c8f2e-0000-4000-8000-000000000001\",\"" \
    "controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{\"replicas\":0,\"selector\":{\"matchLabel" \
    "s\":{\"app\":\"web\",\"pod-template-hash\":\"84c6b5f9d7\"}},\"template\":{\"metadata\":{\"labels\":{\"app\"" \
    ":\"web\",\"pod-template-hash\":\"84c6b5f9d7\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"reg" \
    "istry.example/web:v0\",\"resources\":{},\"terminationMessagePath\":\"/dev/termination-log\",\"term" \
    "inationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"" \
    "terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"securityContext\":{},\"schedul" \
    "erName\":\"default-scheduler\"}}},\"status\":{\"replicas\":0,\"observedGeneration\":2}}]}"

#define FIX_POD \
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-7c5d9f8b4-x2kqp\",\"generateName\":\"w" \
    "eb-7c5d9f8b4-\",\"namespace\":\"prod\",\"uid\":\"cccc0000-0000-4000-8000-000000000003\",\"resourceVe" \
    "rsion\":\"48150\",\"creationTimestamp\":\"2026-07-24T09:59:01Z\",\"labels\":{\"app\":\"web\",\"pod-templ" \
    "ate-hash\":\"7c5d9f8b4\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"nam" \
    "e\":\"web-7c5d9f8b4\",\"uid\":\"bbbb0000-0000-4000-8000-000000000002\",\"controller\":true,\"blockOw" \
    "nerDeletion\":true}]},\"spec\":{\"serviceAccountName\":\"web-sidecar\",\"nodeName\":\"node-1\",\"conta" \
    "iners\":[{\"name\":\"app\",\"image\":\"registry.example/web:v2\"}]},\"status\":{\"phase\":\"Running\",\"po" \
    "dIP\":\"10.244.1.17\"}}"

#define FIX_ROLLOUT \
    "{\"kind\":\"Rollout\",\"apiVersion\":\"argoproj.io/v1alpha1\",\"metadata\":{\"name\":\"web-ro\",\"namespa" \
    "ce\":\"prod\",\"uid\":\"9a9a0000-0000-4000-8000-000000000008\",\"resourceVersion\":\"48050\",\"generat" \
    "ion\":4,\"creationTimestamp\":\"2026-07-20T09:00:00Z\",\"labels\":{\"app\":\"web-ro\"},\"annotations\":" \
    "{\"rollout.argoproj.io/revision\":\"2\"}},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app" \
    "\":\"web-ro\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web-ro\"}},\"spec\":{\"containers\":[{\"na" \
    "me\":\"app\",\"image\":\"registry.example/web:v2\"}]}},\"strategy\":{\"canary\":{\"steps\":[{\"setWeight" \
    "\":20},{\"pause\":{}}]}}},\"status\":{\"phase\":\"Paused\",\"currentPodHash\":\"7d9f6c5b8\",\"stableRS\":" \
    "\"5c8b7d6f9\",\"observedGeneration\":\"4\"}}"

/* Reference section 9.2: the kubectl-equivalent PATCH body (undo to revision 1). */
#define FIX_KUBECTL_PATCH                                                                           \
    "[{\"op\":\"replace\",\"path\":\"/spec/template\",\"value\":{\"metadata\":{\"labels\":{\"app\":"    \
    "\"web\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/web:v1\","     \
    "\"resources\":{},\"terminationMessagePath\":\"/dev/termination-log\","                         \
    "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],"                  \
    "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"                \
    "\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}}},"            \
    "{\"op\":\"replace\",\"path\":\"/metadata/annotations\",\"value\":{"                           \
    "\"deployment.kubernetes.io/revision\":\"2\",\"kubernetes.io/change-cause\":\"image v1\"}}]"

/*
 * Hand-written (not generated): a PodList page of the Deployment web as
 * LIST pods?labelSelector=app%3Dweb answers it, trimmed to what rollguard
 * reads. Revision 5d8f7c9b6d (stable): 3 ready pods, one not ready, one
 * terminating, one without an IP; 7c5d9f8b4 (new, this pod's): 2 ready;
 * 84c6b5f9d7: 2 ready; one Pending pod; one without the hash label.
 */
#define FIX_POD_ITEM(name, hash, phase, ready, ip, extra_md)                                       \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"prod\"" extra_md                         \
    ",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"" hash "\"}},"                           \
    "\"spec\":{\"containers\":[{\"name\":\"app\"}]},"                                             \
    "\"status\":{\"phase\":\"" phase "\",\"conditions\":[{\"type\":\"Initialized\","              \
    "\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"" ready "\"}]" ip "}}"
#define FIX_IP(x) ",\"podIP\":\"" x "\",\"podIPs\":[{\"ip\":\"" x "\"}]"
#define FIX_DELETING ",\"deletionTimestamp\":\"2026-07-24T09:59:30Z\",\"deletionGracePeriodSeconds\":30"

#define FIX_POD_LIST                                                                                \
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"48230\"},"     \
    "\"items\":["                                                                                  \
    FIX_POD_ITEM("web-5d8f7c9b6d-a1", "5d8f7c9b6d", "Running", "True", FIX_IP("10.244.1.5"), "") "," \
    FIX_POD_ITEM("web-5d8f7c9b6d-b2", "5d8f7c9b6d", "Running", "True", FIX_IP("10.244.2.5"), "") "," \
    FIX_POD_ITEM("web-5d8f7c9b6d-c3", "5d8f7c9b6d", "Running", "False", FIX_IP("10.244.3.5"), "") "," \
    FIX_POD_ITEM("web-5d8f7c9b6d-d4", "5d8f7c9b6d", "Running", "True", FIX_IP("10.244.3.6"), FIX_DELETING) "," \
    FIX_POD_ITEM("web-5d8f7c9b6d-e5", "5d8f7c9b6d", "Running", "True", "", "") ","                \
    FIX_POD_ITEM("web-5d8f7c9b6d-f6", "5d8f7c9b6d", "Running", "True", FIX_IP("fd00::1:6"), "") "," \
    FIX_POD_ITEM("web-7c5d9f8b4-h8v4m", "7c5d9f8b4", "Running", "True", FIX_IP("10.244.2.9"), "") "," \
    FIX_POD_ITEM("web-7c5d9f8b4-x2kqp", "7c5d9f8b4", "Running", "True", FIX_IP("10.244.1.17"), "") "," \
    FIX_POD_ITEM("web-84c6b5f9d7-m1", "84c6b5f9d7", "Running", "True", FIX_IP("10.244.4.1"), "") "," \
    FIX_POD_ITEM("web-84c6b5f9d7-m2", "84c6b5f9d7", "Running", "True", FIX_IP("10.244.4.2"), "") "," \
    FIX_POD_ITEM("web-84c6b5f9d7-p3", "84c6b5f9d7", "Pending", "False", "", "") ","               \
    "{\"metadata\":{\"name\":\"web-debug\",\"labels\":{\"app\":\"web\"}},\"status\":{\"phase\":"    \
    "\"Running\",\"podIP\":\"10.244.9.9\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}" \
    "]}"

/* clang-format on */

#endif
