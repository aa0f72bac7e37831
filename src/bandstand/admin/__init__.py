"""The admin service: the audit log of every event, settings, dashboard figures, deep health."""
