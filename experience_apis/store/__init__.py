"""Store experience API: a store's full position and nearby stores."""
