"""The inventory service: the streaming catalogue's movies."""
