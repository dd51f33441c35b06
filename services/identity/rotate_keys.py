"""``python -m services.identity.rotate_keys``: retire identity's JWT signing key and make a new
one. Running identity processes notice the new file at their next request."""

from __future__ import annotations

from services.identity.keys import rotate_signing_key
from shared.settings import Settings

if __name__ == "__main__":
    print(f"new signing key {rotate_signing_key(Settings(service='identity'))}")
