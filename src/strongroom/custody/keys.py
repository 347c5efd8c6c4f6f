"""Ed25519 signing keys for custody manifests.

The private key is written as unencrypted PKCS#8 PEM with mode 0600 (OpenSSL reads it:
`openssl pkey -in custody.key -text`); the public key as SubjectPublicKeyInfo PEM. Manifests
carry the raw 32-byte public key in hex, and its fingerprint: the sha256 of those 32 bytes, in
hex. Publish the fingerprint apart from the manifest so readers can pin it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from strongroom.errors import UsageError

PRIVATE_NAME = "custody.key"
PUBLIC_NAME = "custody.pub"


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path
    fingerprint: str


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()


def generate(directory: Path) -> KeyFiles:
    """A new key pair in `directory`; refuses to overwrite an existing key."""
    private_path, public_path = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(
                f"{path} already exists; a custody key is never overwritten",
                hint="move it away first if you really mean to replace it",
            )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = key.public_key()
    public_path.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyFiles(private_path, public_path, fingerprint(raw_public(public)))


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(f"cannot read the custody key {path}: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path} is not an Ed25519 private key")
    return key


def load_public(path: Path) -> bytes:
    """The raw public key from a PEM file, or from a file holding its 64 hex digits."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read the public key {path}: {error}") from error
    text = data.decode("ascii", "replace").strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise UsageError(f"{path} is neither a PEM public key nor 64 hex digits") from error
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path} is not an Ed25519 public key")
    return raw_public(key)


def verify(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
