"""The composition root: the all-in-one app (composition.py), the `inventory-gateway` command (cli.py),
demo mode (demo.py, demo_data.py), the start-up banner and the `/docs` index. The only package that
knows every tier and the simulators; nothing imports it."""
