"""IBAN validation (ISO 13616 mod-97) and masking; the full IBAN never leaks into an error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.refunds.iban import InvalidIban, mask_iban, validate_iban

TR_IBAN = "TR330006100519786457841326"


def with_check_digits(country: str, bban: str) -> str:
    """The textbook ISO 7064 computation, written independently of the module under test."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def test_valid_tr_iban_is_accepted_normalised_and_masked():
    assert validate_iban(" tr33 0006 1005 1978 6457 8413 26\n") == TR_IBAN
    assert mask_iban(TR_IBAN) == "TR33 **** **** **** **** **13 26"
    assert mask_iban("TR33 0006 1005 1978 6457 8413 26") == mask_iban(TR_IBAN)


@pytest.mark.parametrize("iban", [
    "DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300",
    "FR1420041010050500013M02606", "BE68539007547034", "NO9386011117947", "ES9121000418450200051332",
])
def test_common_european_ibans_are_accepted(iban):
    assert validate_iban(iban) == iban


@pytest.mark.parametrize(("iban", "why"), [
    ("TR330006100519786457841327", "checksum"),
    ("TR33000610051978645784132", "characters, not"),   # one short
    ("ZZ330006100519786457841326", "unknown IBAN country"),
    ("TR33-0006-1005-1978-6457-8413-26", "letters and digits"),
    ("TRX30006100519786457841326", "check digits"),
    ("", "letters and digits"),
])
def test_invalid_ibans_are_refused_without_leaking_them(iban, why):
    with pytest.raises(InvalidIban) as err:
        validate_iban(iban)
    assert err.value.code == "invalid_iban"
    assert why in err.value.message
    rendered = f"{err.value} {err.value.details}"
    middle = iban.replace("-", "")[4:-4]
    assert not middle or middle not in rendered


def test_non_string_is_refused():
    with pytest.raises(InvalidIban):
        validate_iban(330006100519786457841326)  # type: ignore[arg-type]


bbans = st.text(alphabet="0123456789", min_size=22, max_size=22)


@settings(max_examples=200, deadline=None)
@given(bban=bbans)
def test_any_tr_iban_with_correct_check_digits_is_valid(bban):
    iban = with_check_digits("TR", bban)
    assert validate_iban(iban) == iban
    masked = mask_iban(iban)
    assert masked.replace(" ", "") == iban[:4] + "*" * 18 + iban[-4:]


@settings(max_examples=200, deadline=None)
@given(bban=bbans, position=st.integers(4, 25), digit=st.sampled_from("0123456789"))
def test_any_single_digit_change_is_caught(bban, position, digit):
    iban = with_check_digits("TR", bban)
    changed = iban[:position] + digit + iban[position + 1:]
    if changed == iban:
        return
    with pytest.raises(InvalidIban) as err:
        validate_iban(changed)
    assert changed not in str(err.value) and changed not in str(err.value.details)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_masking_never_shows_more_than_eight_characters(text):
    masked = mask_iban(text).replace(" ", "")
    assert sum(c != "*" for c in masked) <= 8
