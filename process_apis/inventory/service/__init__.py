"""The inventory process API's use cases, as plain functions over the wired stores."""
