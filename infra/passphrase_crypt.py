"""Pulumi's passphrase secrets format, written from Python: one key derivation per process.

Pulumi derives the key of a stack's secrets with PBKDF2-SHA256 (1,000,000 rounds) from the
passphrase and the stack's salt, and every CLI process that opens the secrets manager does it
again: 0.2 CPU-seconds each. Writing a new learner's secret config with `pulumi config
set-all` is one such process per learner. Here the key is derived once per state directory
and process, and the secrets are sealed the way Pulumi's symmetric crypter does it
(sdk/go/common/resource/config/crypt.go): AES-256-GCM, 12-byte random nonce, no additional
data, `v1:<base64 nonce>:<base64 ciphertext>`. The salt state (`v1:<base64 salt>:<"pulumi"
sealed>`, what `encryptionsalt:` holds) is made once per state directory and given to every
stack created there; the passphrase file protects all of them alike either way.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.private_files import create_once

ROUNDS = 1_000_000
CHECK = "pulumi"  # what the salt state seals, so a wrong passphrase is recognised

_keys: dict[tuple[str, bytes], bytes] = {}
_lock = threading.Lock()


class PassphraseMismatch(ValueError):
    """The salt state was sealed with another passphrase."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def derive(passphrase: str, salt: bytes) -> bytes:
    """The 32-byte key, derived once per (passphrase, salt) in this process."""
    with _lock:
        key = _keys.get((passphrase, salt))
        if key is None:
            key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, ROUNDS, 32)
            _keys[(passphrase, salt)] = key
        return key


def seal(key: bytes, plaintext: str) -> str:
    nonce = os.urandom(12)
    return f"v1:{_b64(nonce)}:{_b64(AESGCM(key).encrypt(nonce, plaintext.encode(), None))}"


def open_value(key: bytes, value: str) -> str:
    version, nonce, ciphertext = value.split(":")
    if version != "v1":
        raise ValueError(f"unknown secret format {version!r}")
    return AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(ciphertext),
                               None).decode()


def new_salt_state(passphrase: str) -> str:
    salt = os.urandom(8)
    return f"v1:{_b64(salt)}:{seal(derive(passphrase, salt), CHECK)}"


def key_for(passphrase: str, salt_state: str) -> bytes:
    """The key a stack with this `encryptionsalt` uses; PassphraseMismatch if it is not
    this passphrase's."""
    version, salt, sealed = salt_state.split(":", 2)
    if version != "v1":
        raise ValueError(f"unknown salt format {version!r}")
    key = derive(passphrase, base64.b64decode(salt))
    try:
        if open_value(key, sealed) != CHECK:
            raise PassphraseMismatch("the salt was sealed with another passphrase")
    except Exception as exc:  # InvalidTag, malformed values
        raise PassphraseMismatch("the salt was sealed with another passphrase") from exc
    return key


def shared_salt_state(path: Path, passphrase: str) -> str:
    """The state directory's salt state, made once (0600, linked into place atomically so
    concurrent first runs agree)."""
    create_once(path, lambda: new_salt_state(passphrase))
    return path.read_text().strip()
