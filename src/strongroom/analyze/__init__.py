"""Analyses computed from the catalog's records: conversation threads, and more to come."""
