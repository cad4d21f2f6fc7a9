"""End-to-end tests: every tier and both simulators driven over HTTP, as a channel or Salesforce would."""
