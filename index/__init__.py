"""Turns the documents of `corpus/` into a searchable index and searches it."""
