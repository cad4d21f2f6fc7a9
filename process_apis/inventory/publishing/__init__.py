"""The parts of the availability publisher (../publisher.py): coalescing, values, the contract."""
