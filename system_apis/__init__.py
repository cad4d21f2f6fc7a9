"""System APIs: one package per backend system, speaking its protocol outward and canonical REST inward."""
