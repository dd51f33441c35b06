"""Which partner events the trust store accepts: configured partner provinces only, keys only
within their validity window, and a registry file that is re-read when it changes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from shared.partner_registry import Partner, PartnerKey, PartnerRegistry, read_registry, write_registry
from shared.settings import Settings
from shared.signing import (
    Signer,
    TrustStore,
    UntrustedEvent,
    generate_private_key_file,
    key_id_of,
    keys_of,
    public_key_b64,
)

ME = "41"
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
BODY = b'{"anything": 1}'


def _key(signer: Signer, not_before: datetime, not_after: datetime | None = None) -> PartnerKey:
    return PartnerKey(
        key_id=signer.key_id,
        public_key=public_key_b64(signer.key),
        not_before=not_before,
        not_after=not_after,
    )


def _signer(province: str) -> Signer:
    key = Ed25519PrivateKey.generate()
    return Signer(province, key_id_of(province, key), key)


OLD_37 = _signer("37")
NEW_37 = _signer("37")
KEY_44 = _signer("44")
REGISTRY = PartnerRegistry(
    partners=[
        Partner(
            code="37",
            name="山东省",
            broker_uri="amqp:///xueji_37",
            keys=[_key(OLD_37, T0, T0 + timedelta(hours=1)), _key(NEW_37, T0 + timedelta(minutes=30))],
        ),
        Partner(code="44", name="广东省", broker_uri="amqp:///xueji_44", keys=[_key(KEY_44, T0)]),
    ]
)


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "partners.json"
    write_registry(path, REGISTRY)
    return path


def _verify(store: TrustStore, by: Signer, at: datetime, *, claims: str | None = None) -> None:
    store.verify(
        by.headers_for(ME, BODY), BODY, my_province=ME, claimed_province=claims or by.province, now=at
    )


def _refusal(store: TrustStore, by: Signer, at: datetime, *, claims: str | None = None) -> str:
    with pytest.raises(UntrustedEvent) as refused:
        _verify(store, by, at, claims=claims)
    return refused.value.reason


def test_key_window__accepted_from_not_before_to_not_after_inclusive(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    _verify(store, OLD_37, T0)
    _verify(store, OLD_37, T0 + timedelta(hours=1))
    _verify(store, NEW_37, T0 + timedelta(minutes=30))


def test_key_window__overlap_accepts_old_and_new_keys(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    during_overlap = T0 + timedelta(minutes=45)
    _verify(store, OLD_37, during_overlap)
    _verify(store, NEW_37, during_overlap)


def test_key_window__after_not_after_is_expired(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    reason = _refusal(store, OLD_37, T0 + timedelta(hours=1, seconds=1))
    assert f"key {OLD_37.key_id!r} of province 37 expired at" in reason


def test_key_window__before_not_before_is_not_yet_valid(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    reason = _refusal(store, NEW_37, T0 + timedelta(minutes=29))
    assert f"key {NEW_37.key_id!r} of province 37 is not valid before" in reason


def test_partner__unconfigured_province_is_refused_by_name(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    reason = _refusal(store, _signer("99"), T0)
    assert reason == "province 99 is not a configured partner province"


def test_partner__unknown_key_id_names_key_and_province(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    stranger = _signer("37")
    reason = _refusal(store, stranger, T0)
    assert f"unknown signing key {stranger.key_id!r} (event claims province 37)" in reason


def test_partner__key_of_another_partner_is_refused(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file)
    reason = _refusal(store, KEY_44, T0, claims="37")
    assert reason == f"key {KEY_44.key_id!r} belongs to province 44, event claims 37"


@given(
    start=st.integers(min_value=-1000, max_value=1000),
    length=st.one_of(st.none(), st.integers(min_value=0, max_value=1000)),
    at=st.integers(min_value=-3000, max_value=3000),
)
def test_key_window__accepted_exactly_inside(start: int, length: int | None, at: int) -> None:
    not_before = T0 + timedelta(seconds=start)
    not_after = None if length is None else not_before + timedelta(seconds=length)
    partner = Partner(
        code="37", name="山东省", broker_uri="amqp:///x", keys=[_key(OLD_37, not_before, not_after)]
    )
    store = TrustStore(keys_of(PartnerRegistry(partners=[partner])), partners=frozenset({"37"}))
    moment = T0 + timedelta(seconds=at)
    inside = not_before <= moment and (not_after is None or moment <= not_after)
    assert partner.keys[0].is_valid_at(moment) is inside
    if inside:
        _verify(store, OLD_37, moment)
    else:
        _refusal(store, OLD_37, moment)


def test_registry_reload__a_new_partner_key_is_trusted_without_restart(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file, check_every=3600)
    rotated = _signer("44")
    registry = read_registry(registry_file)
    partner_44 = registry.partner("44")
    assert partner_44 is not None
    partner_44.keys.append(_key(rotated, T0))
    write_registry(registry_file, registry)
    # Long before the next periodic look: an unknown key id makes the store look at once.
    _verify(store, rotated, T0)


def test_registry_reload__a_new_partner_province_is_trusted_without_restart(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file, check_every=3600)
    newcomer = _signer("11")
    assert "is not a configured partner" in _refusal(store, newcomer, T0)
    registry = read_registry(registry_file)
    registry.partners.append(
        Partner(code="11", name="北京市", broker_uri="amqp:///x", keys=[_key(newcomer, T0)])
    )
    write_registry(registry_file, registry)
    _verify(store, newcomer, T0)


def test_registry_reload__a_broken_file_keeps_the_last_good_registry(registry_file: Path) -> None:
    store = TrustStore.from_registry(registry_file, check_every=0)
    registry_file.write_text('{"partners": [')
    _verify(store, OLD_37, T0)
    assert store.partners == frozenset({"37", "44"})


def test_registry__duplicate_key_ids_are_refused() -> None:
    twice = _key(OLD_37, T0)
    with pytest.raises(ValueError, match="key id is listed twice"):
        PartnerRegistry(
            partners=[
                Partner(code="37", name="山东省", broker_uri="amqp:///a", keys=[twice]),
                Partner(code="44", name="广东省", broker_uri="amqp:///b", keys=[twice]),
            ]
        )


def test_signer__picks_up_a_replaced_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "signing.pem"
    first = generate_private_key_file(key_file)
    signer = Signer.from_key_file("41", key_file)
    signer.check_every = 0
    assert signer.key_id == key_id_of("41", first)
    staged = tmp_path / "signing.pem.next"
    second = generate_private_key_file(staged)
    staged.replace(key_file)
    headers = signer.headers_for("37", BODY)
    assert headers["x-xueji-key-id"] == key_id_of("41", second)
    raw = second.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert base64.b64decode(public_key_b64(signer.key)) == raw


def test_settings__partners_come_from_the_registry(registry_file: Path) -> None:
    settings = Settings(
        service="transfer",
        province=ME,
        database_url="postgresql+asyncpg://x/y",
        partners=["12"],
        partners_file=registry_file,
    )
    assert settings.partners == ["37", "44"]


def test_settings__a_missing_registry_file_stops_the_process(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="XUEJI_PARTNERS_FILE"):
        Settings(
            service="transfer",
            province=ME,
            database_url="postgresql+asyncpg://x/y",
            partners_file=tmp_path / "missing.json",
        )
