"""Concerts: the concert calendar and who attends what."""
