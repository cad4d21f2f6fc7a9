"""Salesforce simulator: OAuth2, sObject Collections, Platform Events."""
