"""Identity: users, roles, credentials and tokens; the only service that signs JWTs."""
