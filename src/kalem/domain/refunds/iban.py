"""IBANs for fund-transfer refunds (Akinon `ibans` / `holder_names`): validate, then mask.

An IBAN is personal data: kalem stores and shows it masked everywhere, so nothing in this module
puts a full IBAN into an exception message or its details — only the masked form.
"""

from __future__ import annotations

from kalem.domain.errors import KalemError


class InvalidIban(KalemError):
    code = "invalid_iban"
    status = 422


# ISO 13616 lengths per country (SWIFT IBAN registry). A country outside the table is refused:
# without its length a mistyped IBAN could still pass the checksum.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _compact(s: str) -> str:
    # People paste IBANs in print form ("TR33 0006 ..."), with tabs or a trailing newline.
    return "".join(s.split()).upper()


def mask_iban(s: str) -> str:
    """`TR33 **** **** **** **** **13 26`: country code, check digits and the last 4 characters stay,
    everything else becomes `*`, in print-form groups of four.

    Works on anything, valid or not, because it is what goes into logs and error messages; a value
    too short to keep 8 characters visible is masked entirely.
    """
    compact = _compact(s) if isinstance(s, str) else ""
    if len(compact) < 12:
        masked = "*" * len(compact)
    else:
        masked = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(masked[i:i + 4] for i in range(0, len(masked), 4))


def validate_iban(s: str) -> str:
    """Return the IBAN in electronic form (no spaces, upper case) or raise `InvalidIban`.

    Checks: characters, country, that country's length, and the ISO 7064 mod-97-10 checksum,
    which catches every single-character error and most transpositions.
    """
    if not isinstance(s, str):
        raise InvalidIban("an IBAN must be a string")
    iban = _compact(s)
    masked = mask_iban(iban)
    if not iban or not set(iban) <= _ALNUM:
        raise InvalidIban("an IBAN has only letters and digits", iban=masked)
    country, check = iban[:2], iban[2:4]
    if country not in IBAN_LENGTHS:
        raise InvalidIban(f"unknown IBAN country {country!r}", iban=masked)
    if not check.isdigit():
        raise InvalidIban("IBAN check digits must be digits", iban=masked)
    if len(iban) != IBAN_LENGTHS[country]:
        raise InvalidIban(f"a {country} IBAN has {IBAN_LENGTHS[country]} characters, not {len(iban)}",
                          iban=masked)
    # Move the first four characters to the end, letters become 10..35, the number mod 97 is 1.
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise InvalidIban("IBAN checksum does not match", iban=masked)
    return iban
