"""Call-centre experience API: network-wide availability with ETAs, and customer holds."""
