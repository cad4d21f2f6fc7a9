"""Process tier: business processes over canonical data, independent of any vendor or channel."""
