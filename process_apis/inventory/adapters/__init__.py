"""Where the inventory process touches Redis: key layout, Lua scripts, stores."""
