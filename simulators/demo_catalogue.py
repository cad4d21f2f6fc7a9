"""The demo retailer's products, which both simulators seed (SAP as materials, Salesforce as Product2
records), so that a demo gateway's two systems name the same SKUs."""

DEMO_SKUS = tuple(f"MAT-{n}" for n in range(1001, 1021))
