"""`qosym report`: the PDF drawn from the insights API is a real PDF whose text (Russian and Kazakh) can be read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from qosym_chassis.consumer import Outcome
from qosym_cli.report import LABELS, build_report
from services.insights.tests.component.support import auth, seeded_demo
from tests.support.events import message

pytestmark = pytest.mark.component


@pytest.mark.parametrize("lang", ["ru", "kk"])
async def test_the_report_is_a_pdf_with_the_charts_and_tables_in_the_chosen_language(
    lang, service_db, consumer, service_app, token, tmp_path
) -> None:
    url = await service_db("insights")
    wrapper = await consumer("insights", url)
    for event in seeded_demo().events:
        assert await wrapper.deliver(message(event)) is Outcome.APPLIED
    app = service_app("insights", url)
    out = tmp_path / f"astana-{lang}.pdf"
    with TestClient(app, headers=auth(token("auditor"))) as client:
        build_report(client, "astana", "2026-10", lang, out)  # a synchronous HTTP client, like the CLI's
    assert out.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(out)
    assert len(reader.pages) == 5
    text = "\n".join(page.extract_text() for page in reader.pages)
    labels, other = LABELS[lang], LABELS["kk" if lang == "ru" else "ru"]
    for key in ("title", "demand", "activation", "retention", "equity", "budget", "attendance"):
        assert labels[key] in text, key
    assert other["title"] in text  # the title page names the report in the other language too
    assert "yesil" in text and "2026-10" in text
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
    }
    assert any("DejaVuSans" in name for name in fonts), fonts
