"""Music: songs, albums and their tracks, likes, and event pictures."""
