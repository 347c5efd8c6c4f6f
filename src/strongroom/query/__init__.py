"""The query language: parsed once into a tree, compiled to the index in one place."""
