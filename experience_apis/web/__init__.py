"""Web shop experience API (/web/v1): availability as bands and capped quantities, pickup stores
near a postal code, and cart holds that become an order's reservation at checkout."""
