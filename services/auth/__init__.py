"""The auth service: users, password hashing, RS256 JWT issuing, rotating refresh tokens, JWKS."""
