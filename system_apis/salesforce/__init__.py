"""Salesforce system API: OAuth2 session, availability outcomes out, reservation requests in."""
