from __future__ import annotations

import numpy as np
import pytest

from services.identity.faces.templates import SealedTemplate, TemplateKeys, TemplateUnreadable


def test_template_keys__roundtrip_and_rotation() -> None:
    old = TemplateKeys({"k1": b"\x01" * 32}, "k1")
    rotated = TemplateKeys({"k1": b"\x01" * 32, "k2": b"\x02" * 32}, "k2")
    descriptor = np.linspace(-0.2, 0.2, 128)
    sealed_old = old.seal(descriptor, "s1")
    assert rotated.seal(descriptor, "s1").key_id == "k2"
    assert np.array_equal(rotated.open(sealed_old, "s1"), descriptor)


def test_template_keys__a_flipped_bit_does_not_open() -> None:
    keys = TemplateKeys({"k1": b"\x01" * 32}, "k1")
    sealed = keys.seal(np.zeros(128), "s1")
    tampered = SealedTemplate("k1", sealed.blob[:-1] + bytes([sealed.blob[-1] ^ 1]))
    with pytest.raises(TemplateUnreadable):
        keys.open(tampered, "s1")


def test_template_keys__an_unknown_key_id_does_not_open() -> None:
    keys = TemplateKeys({"k1": b"\x01" * 32}, "k1")
    with pytest.raises(TemplateUnreadable):
        keys.open(SealedTemplate("k0", b"\x00" * 40), "s1")
