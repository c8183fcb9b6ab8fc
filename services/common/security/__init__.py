"""JWT signing-key handling and token verification shared by auth (issuer) and gateway (verifier)."""
