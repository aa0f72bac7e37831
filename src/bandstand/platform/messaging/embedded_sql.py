"""The embedded broker's tables in its SQLite file, and the statements it reads and writes them
with (`messaging.embedded`)."""

from __future__ import annotations

SCHEMA_VERSION = 1
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, dead_letter INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS bindings (
        queue TEXT NOT NULL, pattern TEXT NOT NULL, PRIMARY KEY (queue, pattern))""",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL,
        routing_key TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        available_at REAL NOT NULL,
        locked_until REAL,
        lock_token TEXT,
        created_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ix_messages_queue_id ON messages (queue, id)",
)
READY = "queue = ? AND available_at <= ? AND (locked_until IS NULL OR locked_until <= ?)"
ANY_READY = f"SELECT 1 FROM messages WHERE {READY} LIMIT 1"  # noqa: S608
NEXT_READY = f"SELECT id, attempts FROM messages WHERE {READY} ORDER BY id LIMIT ?"  # noqa: S608
READY_AFTER = (
    "SELECT min(max(available_at, coalesce(locked_until, available_at))) FROM messages"
    " WHERE queue = ?"
)
PEEK = f"SELECT message_id, body FROM messages WHERE {READY} ORDER BY id LIMIT ?"  # noqa: S608
# Row ids travel as one JSON array parameter, so no statement is assembled from values.
LOCK = (
    "UPDATE messages SET attempts = attempts + 1, locked_until = ?, lock_token = ?"
    " WHERE id IN (SELECT value FROM json_each(?)) RETURNING id, body, attempts, message_id"
)
MOVE = (
    "UPDATE messages SET queue = ?, attempts = 0, available_at = ?, locked_until = NULL,"
    " lock_token = NULL WHERE id IN (SELECT value FROM json_each(?))"
)
DELETE = "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))"
