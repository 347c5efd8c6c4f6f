"""From files on disk to items in the catalog: walk, store, detect, parse, record."""
