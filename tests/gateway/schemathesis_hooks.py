"""Schemathesis hooks for tests/gateway/test_openapi_contract.py (loaded through SCHEMATHESIS_HOOKS): a
store credential acts for its own store only, so generated store ids are replaced by the demo store's
(other stores' 403 is proven in tests/gateway/test_scope_matrix.py)."""

import schemathesis

from gateway.demo import DEMO_STORE


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if path_parameters and "store_id" in path_parameters:
        path_parameters["store_id"] = DEMO_STORE
    return path_parameters
