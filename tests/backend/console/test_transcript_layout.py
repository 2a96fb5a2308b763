"""The transcript export as a PDF a hospital files: no text runs into other text (issue #18)."""
from __future__ import annotations

import re

from tests.backend.console.conftest import Staff
from tests.pdf_layout import overlapping_words, words


async def test_the_transcript_pdf_has_no_overlapping_text(as_staff: Staff, client, dialogue):
    await dialogue.intake()  # the whole Chinese intake, to the booking number: long lines, buttons, files
    await dialogue.play([("English", "Switched to English"), ("status", "Your bookings")])
    await as_staff.login("li.hotline")
    found = await (await client.get("/console/conversations", params={"q": "王秀英"})).text()
    user_id = re.search(r'/console/conversations/(\d+)"', found).group(1)
    response = await client.get(f"/console/conversations/{user_id}/transcript.pdf")
    assert response.status == 200
    pdf = await response.read()
    assert len(words(pdf)) > 300
    assert overlapping_words(pdf) == []
