"""Server-rendered pages for people and the operator console."""
