"""The EDMX `$metadata` documents (OData v2, SAP Gateway flavour) rendered from `entities.py`."""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import quoteattr

from simulators.sap.entities import SERVICES, EntityType, FunctionImport, Property, Service

_PREAMBLE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"'
    ' xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
    ' xmlns:sap="http://www.sap.com/Protocols/SAPData">\n'
    ' <edmx:DataServices m:DataServiceVersion="2.0">\n'
)
_READ_ONLY = 'sap:creatable="false" sap:updatable="false" sap:deletable="false"'


def _attrs(**values) -> str:
    return "".join(
        f" {name.replace('__', ':').replace('_', '-')}={quoteattr(str(value))}"
        for name, value in values.items()
        if value is not None
    )


def _property(prop: Property, key: bool) -> str:
    return (
        "    <Property"
        + _attrs(
            Name=prop.name,
            Type=prop.edm_type,
            Nullable="false" if key else None,
            MaxLength=prop.max_length,
            Precision=prop.precision,
            Scale=prop.scale,
            sap__unit=prop.unit,
            sap__display_format=prop.display_format,
            sap__label=prop.label or None,
        )
        + "/>"
    )


def _entity_type(service: Service, entity: EntityType) -> list[str]:
    lines = [
        f"   <EntityType{_attrs(Name=entity.name, sap__label=entity.label or None, sap__content_version=1)}>",
        "    <Key>" + "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in entity.keys) + "</Key>",
    ]
    lines += [_property(prop, prop.name in entity.keys) for prop in entity.properties]
    lines += [
        f"    <NavigationProperty{_attrs(Name=nav.name, Relationship=f'{service.name}.{nav.association}')}"
        f"{_attrs(FromRole=f'FromRole_{nav.association}', ToRole=f'ToRole_{nav.association}')}/>"
        for nav in entity.navigation
    ]
    return lines + ["   </EntityType>"]


def _associations(service: Service) -> list[str]:
    lines = []
    for entity in service.entity_types:
        for nav in entity.navigation:
            target = service.entity_type(nav.target)
            lines += [
                f"   <Association{_attrs(Name=nav.association, sap__content_version=1)}>",
                f"    <End{_attrs(Type=f'{service.name}.{entity.name}', Multiplicity='1')}"
                f"{_attrs(Role=f'FromRole_{nav.association}')}/>",
                f"    <End{_attrs(Type=f'{service.name}.{target.name}', Multiplicity='*' if nav.many else '0..1')}"
                f"{_attrs(Role=f'ToRole_{nav.association}')}/>",
                "   </Association>",
            ]
    return lines


def _function_import(service: Service, function: FunctionImport) -> list[str]:
    lines = [
        f"    <FunctionImport{_attrs(Name=function.name)}"
        f"{_attrs(ReturnType=f'{service.name}.{function.return_type}', EntitySet=function.entity_set)}"
        f"{_attrs(m__HttpMethod=function.http_method, sap__label=function.label or None)}"
        f"{_attrs(sap__action_for=f'{service.name}.{function.return_type}')}>"
    ]
    lines += [
        f"     <Parameter{_attrs(Name=p.name, Type=p.edm_type, Mode='In', MaxLength=p.max_length)}"
        f"{_attrs(Precision=0 if p.edm_type == 'Edm.DateTime' else None)}"
        f"{_attrs(Nullable='true' if p.nullable else None)}/>"
        for p in function.parameters
    ]
    return lines + ["    </FunctionImport>"]


def _container(service: Service) -> list[str]:
    lines = [
        f"   <EntityContainer{_attrs(Name=f'{service.name}_Entities', m__IsDefaultEntityContainer='true')}"
        f"{_attrs(sap__supported_formats='atom json xlsx')}>"
    ]
    for entity in service.entity_types:
        flags = 'sap:updatable="false" sap:deletable="false"' if entity.creatable else _READ_ONLY
        lines.append(
            f"    <EntitySet{_attrs(Name=entity.set_name, EntityType=f'{service.name}.{entity.name}')}"
            f' {flags} sap:content-version="1"/>'
        )
    for entity in service.entity_types:
        for nav in entity.navigation:
            target = service.entity_type(nav.target)
            lines += [
                f"    <AssociationSet{_attrs(Name=f'{nav.association}_set')}"
                f'{_attrs(Association=f"{service.name}.{nav.association}")} {_READ_ONLY} sap:content-version="1">',
                f"     <End{_attrs(EntitySet=entity.set_name, Role=f'FromRole_{nav.association}')}/>",
                f"     <End{_attrs(EntitySet=target.set_name, Role=f'ToRole_{nav.association}')}/>",
                "    </AssociationSet>",
            ]
    for function in service.function_imports:
        lines += _function_import(service, function)
    return lines + ["   </EntityContainer>"]


@cache
def edmx(service_name: str) -> bytes:
    """The `$metadata` document of one service, as served (UTF-8 XML)."""
    service = SERVICES[service_name]
    lines = [
        f'  <Schema Namespace="{service.name}" xml:lang="en" sap:schema-version="1"'
        ' xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
    ]
    for entity in service.entity_types:
        lines += _entity_type(service, entity)
    lines += _associations(service)
    lines += _container(service)
    lines += ["  </Schema>", " </edmx:DataServices>", "</edmx:Edmx>", ""]
    return (_PREAMBLE + "\n".join(lines)).encode()
