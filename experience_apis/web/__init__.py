"""Web shop experience API: availability bands and capped quantities."""
