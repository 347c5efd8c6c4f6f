"""Format handlers: one module per item type, all listed in `registry`."""
