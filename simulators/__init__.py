"""Simulators: wire-format stand-ins for SAP S/4HANA and Salesforce, with fault injection."""
