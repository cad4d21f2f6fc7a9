"""What `serve` prints at start-up: where every API, document and simulator is, and the demo's keys."""

from __future__ import annotations

from .composition import (
    ODATA_ROOT,
    PROCESS_PREFIX,
    SALESFORCE_API_PREFIX,
    SAP_API_PREFIX,
    salesforce_client_set,
    salesforce_simulator_in_process,
    simulator_in_process,
)
from .demo import DEMO_CLIENTS, DemoCredentials
from .settings import Settings


def banner(
    settings: Settings, base_url: str, generated: DemoCredentials | None = None, api_keys: dict[str, str] | None = None
) -> str:
    """How to reach everything, printed by `serve` at start-up (with the demo's `api_keys`)."""
    generated = generated or DemoCredentials()
    lines = [
        f"Inventory Gateway on {base_url}",
        f"  web experience API     {base_url}/web/v1           docs {base_url}/web/v1/docs",
        f"  store experience API   {base_url}/store/v1         docs {base_url}/store/v1/docs",
        f"  call-centre API        {base_url}/call-centre/v1   docs {base_url}/call-centre/v1/docs",
        f"  inventory process API  {base_url}{PROCESS_PREFIX}    docs {base_url}/docs",
    ]
    has_sap = not simulator_in_process(settings) or (settings.sap_user and settings.sap_password)
    if has_sap:
        lines.append(
            f"  SAP system API         {base_url}{SAP_API_PREFIX}           docs {base_url}{SAP_API_PREFIX}/docs"
        )
    if simulator_in_process(settings) and has_sap:
        lines.append(f"  SAP simulator (OData)  {base_url}{ODATA_ROOT}/    admin {base_url}/sap-sim/admin/")
        password = settings.sap_password if generated.password else "(your SAP_PASSWORD)"
        note = " (generated for this run)" if generated.user or generated.password else ""
        lines.append(f"  SAP user / password    {settings.sap_user} / {password}{note}")
        lines.append(
            f"  try: curl -u '{settings.sap_user}:{password}' "
            f"'{base_url}{ODATA_ROOT}/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod?$top=2&$format=json'"
        )
    elif settings.sap_base_url:
        lines.append(f"  SAP (S/4HANA OData)    {settings.sap_base_url}")
    has_salesforce = not salesforce_simulator_in_process(settings) or salesforce_client_set(settings)
    if has_salesforce:
        lines.append(
            f"  Salesforce system API  {base_url}{SALESFORCE_API_PREFIX}    docs {base_url}{SALESFORCE_API_PREFIX}/docs"
        )
    if salesforce_simulator_in_process(settings) and has_salesforce:
        secret = settings.salesforce_client_secret if generated.salesforce_secret else "(your SALESFORCE_CLIENT_SECRET)"
        note = " (secret generated for this run)" if generated.salesforce_secret else ""
        lines.append(
            f"  Salesforce simulator   {base_url}/services/data/v{settings.salesforce_api_version}/    "
            f"admin {base_url}/sf-sim/admin/"
        )
        lines.append(f"  Salesforce client      {settings.salesforce_client_id} / {secret}{note}")
        lines.append(f"  try: curl -u '{settings.salesforce_client_id}:{secret}' '{base_url}/sf-sim/admin/usage'")
    elif settings.salesforce_base_url:
        lines.append(f"  Salesforce org         {settings.salesforce_base_url}")
    if api_keys:
        lines += _demo_key_lines(base_url, api_keys)
    return "\n".join(lines)


def _demo_key_lines(base_url: str, api_keys: dict[str, str]) -> list[str]:
    lines = ["Demo API keys (made for this run; send one as `Authorization: Bearer <key>`):"]
    width = max(map(len, api_keys))
    for client_id, key in api_keys.items():
        kind, scopes, store_id, _ = DEMO_CLIENTS[client_id]
        bound = f", store {store_id}" if store_id else ""
        lines.append(f"  {client_id:<{width}}  {key}   ({kind}: {' '.join(scopes)}{bound})")
    operator = api_keys.get("demo-operator")
    if operator:
        lines.append(
            f"  try: curl -H 'Authorization: Bearer {operator}' '{base_url}{PROCESS_PREFIX}/availability?sku=MAT-1001'"
        )
    return lines
