"""Print a new RS256 private key (PKCS#8 PEM) for the auth service: ``python -m scripts.gen_jwt_key``."""

from services.common.security.tokens import generate_private_key_pem

if __name__ == "__main__":
    print(generate_private_key_pem(), end="")
