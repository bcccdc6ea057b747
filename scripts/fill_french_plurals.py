#!/usr/bin/env python3
"""Fill the French catalogue's plural entries from the source strings (run by make).

The interface is written in French, so French needs no translation, except for plural
forms: without a French catalogue, gettext falls back to the source language's rule
(n != 1) and says "0 compétences" where French says "0 compétence" (plural=(n > 1)).
Each plural entry gets its own singular for n = 0 or 1 and its plural otherwise; every other entry
stays empty (a fuzzy guess is emptied) and falls back to the source string.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "ntc_jury/translations/fr/LC_MESSAGES/messages.po"


def main() -> int:
    with PO.open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    filled = 0
    for message in catalogue:
        if message.id and message.pluralizable:
            singular, plural = message.id
            # CLDR's French has a third form, for millions ("1 000 000 de …"): the plural.
            forms = (singular,) + (plural,) * (catalogue.num_plurals - 1)
            if tuple(message.string) != forms:
                message.string = forms
                filled += 1
            message.flags.discard("fuzzy")
        elif message.id and message.fuzzy:
            # A guess from a similar string (compiled with -f, it would be shown): French
            # needs none, the source string is the text.
            message.string = ""
            message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalogue, width=100)
    print(f"{PO.relative_to(PO.parents[4])}: {filled} plural entries filled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
