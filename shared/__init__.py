"""Cross-tier infrastructure: config, problem+json errors, logging, metrics, probes, Redis, idempotency."""
