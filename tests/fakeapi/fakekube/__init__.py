"""The fake Kubernetes API server, in modules (see ../README.md for who owns what).

Every top-level name of every module is re-exported here, so that `fakeapi.NAME`
keeps working for the code that imports tests/fakeapi/fakeapi.py.
"""

from .errors import (  # noqa: F401
    ANNOTATIONS_TO_SKIP, APF_BODY, APIError, DEFAULT_USER, FLOWSCHEMA_UID, HASH_LABEL,
    MAX_BODY, OPTIMISTIC_LOCK_MSG, PRIORITYLEVEL_UID, REV_ANN, REV_HIST_ANN, SERVER_VERSION,
    compact, err_already_exists, err_bad_request, err_conflict, err_generic_not_found,
    err_invalid, err_invalid_generic, err_method_not_allowed, err_not_found,
    err_unauthorized, err_unsupported_builtin, err_unsupported_custom, field_invalid,
    field_required, go_decode_error, go_json, go_type_name, go_value, status_body,
)
from .resources import (  # noqa: F401
    EVENT_FIELDS, POD_FIELDS, RESOURCES, RES_BY_GV, Res, SAFE_ALPHABET, SCALE_RES,
    SUB_VERBS, VERBS_ALL, equal_ignore_hash, fmt_micro, fmt_time, fnv32a,
    normalize_semantic, parse_time, random_suffix, res_by_name, res_for_object, revision_of,
    safe_encode, template_hash,
)
from .selectors import (  # noqa: F401
    SelectorError, _LABEL_SPECIAL, _check_label_key, _label_tokens, _tokstr, field_match,
    get_path, label_match, parse_field_selector, parse_label_selector,
    selector_matches_labels, selector_to_string,
)
from .patch import (  # noqa: F401
    PatchApplyError, SMP_MERGE_KEYS, _arr_index, _container, _smp_list, json_patch_apply,
    json_patch_decode, merge_patch, parse_pointer, ptr_add, ptr_get, ptr_remove,
    ptr_replace, strategic_merge_patch, v4_equal,
)
from .controller import (  # noqa: F401
    _max_surge, _scale_rs, controller_sync, is_controlled_by,
)
from .store import (  # noqa: F401
    CORE_EVENT_ORDER, DEFAULT_OPTIONS, META_ORDER, Store, V1_EVENT_ORDER, core_event_to_v1,
    normalize_core_event, order_object, ordered, v1_event_to_core,
)
from .auth import (  # noqa: F401
    Tokens, _ensure_tls_locked, ensure_tls, token_fp, write_atomic,
)
from .discovery import (  # noqa: F401
    GROUP_ORDER, _age, _res_verbs, aggregated_discovery, api_groups, api_resource_list,
    table_for,
)
from .api import (  # noqa: F401
    API, BODY_TYPES_BUILTIN, BODY_TYPES_CUSTOM, PATCH_TYPES_BUILTIN, PATCH_TYPES_CUSTOM,
    Response, media_type,
)
from .faults import (  # noqa: F401
    FAULT_TYPES, Faults, fault_response, request_attrs,
)
from .server import (  # noqa: F401
    RequestLog, _Handler, _Server,
)
from .control import (  # noqa: F401
    ControlClient, FakeAPI, _ControlHandler, _ControlServer, load_json_file,
)

__all__ = [
    "ANNOTATIONS_TO_SKIP", "APF_BODY", "APIError", "DEFAULT_USER", "FLOWSCHEMA_UID",
    "HASH_LABEL", "MAX_BODY", "OPTIMISTIC_LOCK_MSG", "PRIORITYLEVEL_UID", "REV_ANN",
    "REV_HIST_ANN", "SERVER_VERSION", "compact", "err_already_exists", "err_bad_request",
    "err_conflict", "err_generic_not_found", "err_invalid", "err_invalid_generic",
    "err_method_not_allowed", "err_not_found", "err_unauthorized",
    "err_unsupported_builtin", "err_unsupported_custom", "field_invalid", "field_required",
    "go_decode_error", "go_json", "go_type_name", "go_value", "status_body", "EVENT_FIELDS",
    "POD_FIELDS", "RESOURCES", "RES_BY_GV", "Res", "SAFE_ALPHABET", "SCALE_RES",
    "SUB_VERBS", "VERBS_ALL", "equal_ignore_hash", "fmt_micro", "fmt_time", "fnv32a",
    "normalize_semantic", "parse_time", "random_suffix", "res_by_name", "res_for_object",
    "revision_of", "safe_encode", "template_hash", "SelectorError", "_LABEL_SPECIAL",
    "_check_label_key", "_label_tokens", "_tokstr", "field_match", "get_path",
    "label_match", "parse_field_selector", "parse_label_selector",
    "selector_matches_labels", "selector_to_string", "PatchApplyError", "SMP_MERGE_KEYS",
    "_arr_index", "_container", "_smp_list", "json_patch_apply", "json_patch_decode",
    "merge_patch", "parse_pointer", "ptr_add", "ptr_get", "ptr_remove", "ptr_replace",
    "strategic_merge_patch", "v4_equal", "_max_surge", "_scale_rs", "controller_sync",
    "is_controlled_by", "CORE_EVENT_ORDER", "DEFAULT_OPTIONS", "META_ORDER", "Store",
    "V1_EVENT_ORDER", "core_event_to_v1", "normalize_core_event", "order_object", "ordered",
    "v1_event_to_core", "Tokens", "_ensure_tls_locked", "ensure_tls", "token_fp",
    "write_atomic", "GROUP_ORDER", "_age", "_res_verbs", "aggregated_discovery",
    "api_groups", "api_resource_list", "table_for", "API", "BODY_TYPES_BUILTIN",
    "BODY_TYPES_CUSTOM", "PATCH_TYPES_BUILTIN", "PATCH_TYPES_CUSTOM", "Response",
    "media_type", "FAULT_TYPES", "Faults", "fault_response", "request_attrs", "RequestLog",
    "_Handler", "_Server", "ControlClient", "FakeAPI", "_ControlHandler", "_ControlServer",
    "load_json_file",
]
