"""The sealed consent PDF, checked with the tools a hospital would use: poppler, qpdf, pyHanko."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pypdfium2
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from documents.consent import consent_summary, content_sha256
from documents.fonts import compact_cff_font, fast_subsetting_available, require_fast_subsetting
from documents.pdf import SealedConsent, produce_sealed_consent, render_and_seal
from documents.sample import sample_context
from documents.seal import trusted_certificates
from tests.documents.conftest import use_data_dir
from tests.pdf_layout import overlapping_words, words

# WeasyPrint 70 leaves its sRGB ICC profile file open (a ResourceWarning when collected)
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

ZH_SECTIONS = ["居家护理服务协议及知情同意书", "甲方（服务提供方）", "乙方（服务对象）", "申请人（代理人）",
               "在场家属/照护人", "一、服务项目与费用", "二、服务内容、形式与流程", "三、甲方的权利和义务",
               "四、乙方的权利和义务", "五、可能的风险", "六、隐私与信息安全", "七、投诉与评价",
               "八、争议解决", "协商", "人民调解", "行政调解", "提起诉讼", "乙方声明", "签署审计记录",
               "内容摘要 SHA-256", "文书生成", "发送给申请人", "通过链接打开", "申请人签署",
               "医院加盖电子签章", "开发测试印章"]
EN_SECTIONS = ["Home Nursing Service Agreement and Informed Consent", "Party A (provider)",
               "Party B (patient)", "Applicant (agent)", "1. Services and fees",
               "2. Service content, form and process", "3. Party A's rights and responsibilities",
               "4. Party B's rights and responsibilities", "5. Possible risks",
               "6. Privacy and information security", "7. Complaints and ratings",
               "8. Dispute resolution", "negotiation", "people's mediation",
               "administrative mediation", "lawsuit", "Audit Trail", "Content SHA-256",
               "Created", "Sent to applicant", "Opened via link", "Signed", "Sealed by hospital",
               "development seal"]


@pytest.fixture(scope="module", params=["zh", "en"])
def sealed(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[tuple[str, SealedConsent, Path]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_data_dir(monkeypatch, data_dir)
        result = render_and_seal(sample_context(request.param))
    path = data_dir / f"consent-{request.param}.pdf"
    path.write_bytes(result.pdf)
    yield request.param, result, path


def _text(path: Path) -> str:
    """The PDF's text with whitespace removed (letter-spaced headings come out as "居 家")."""
    out = subprocess.run(["pdftotext", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return "".join(out.split())


def _squash(value: object) -> str:
    return "".join(str(value).split())


def test_every_section_and_value_is_in_the_text(sealed: tuple[str, SealedConsent, Path]) -> None:
    lang, result, path = sealed
    text = _text(path)
    context = replace(sample_context(lang), development_seal=True)
    for section in ZH_SECTIONS if lang == "zh" else EN_SECTIONS:
        assert _squash(section) in text, section
    values = [context.hospital.name_zh, context.hospital.hotline, context.hospital.complaints_phone,
              context.patient_id_masked, context.applicant_name, context.applicant_relation,
              context.present_name, context.present_relation, context.present_phone_masked,
              context.signer_name, "微信公众号" if lang == "zh" else "WeChat Official Account",
              "340.00", "2026-11-19 14:42:17", result.content_sha256]
    values += [s.name for s in context.services] + [r for s in context.services for r in s.risks]
    for value in values:
        assert _squash(value) in text, value
    assert "2417" in text and "110101" not in text  # the ID is masked but for its last 4 digits
    assert context.channel_user_id not in text  # the channel in words, never a raw account id


def test_list_items_carry_their_numbers_in_order(sealed: tuple[str, SealedConsent, Path]) -> None:
    """The numbers of list items are written in the templates (not WeasyPrint's list markers)."""
    lang, _result, path = sealed
    text = _text(path)
    first, last = (("1.派出具备相应资质", "7.按公示标准收取服务费用") if lang == "zh"
                   else ("1.Sendstaffwiththerequired", "7.Chargefeesatitspublishedrates"))
    assert first in text and last in text
    assert text.index(first) < text.index(last)


def test_no_text_overlaps_other_text(sealed: tuple[str, SealedConsent, Path]) -> None:
    """Labels wrap inside their column and the seal stands beside the lines it seals."""
    lang, result, _ = sealed
    assert len(words(result.pdf)) > 300  # the check saw the text (a Chinese line is one "word")
    assert overlapping_words(result.pdf) == []


def test_nothing_is_drawn_in_the_right_margin(sealed: tuple[str, SealedConsent, Path]) -> None:
    """The signature boxes (fixed-layout table cells with padding) once ran 14 mm into the
    20 mm right margin: their widths now include padding and border."""
    import io

    import numpy as np
    from PIL import Image

    _, result, _ = sealed
    for number, png in enumerate(result.pages, start=1):
        page = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
        margin = round(page.shape[1] * 19 / 210)  # 19 of the page's 210 mm, 1 mm spare
        assert (page[:, -margin:] < 200).sum() == 0, f"page {number}"


def test_rare_characters_render(sealed: tuple[str, SealedConsent, Path]) -> None:
    _, _, path = sealed
    text = _text(path)
    assert "王𠮷" in text and "王龘" in text


def test_fonts_are_embedded_subsets(sealed: tuple[str, SealedConsent, Path]) -> None:
    _, _, path = sealed
    lines = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert lines
    for line in lines:
        emb, sub, uni = line.split()[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), line


def test_cjk_faces_are_bare_cff_programs(sealed: tuple[str, SealedConsent, Path]) -> None:
    """Noto CJK subsets are embedded as CID-keyed CFF (FontFile3 /CIDFontType0C), not wrapped
    in OpenType: viewers then find glyphs by CID, which the subset keeps."""
    _, _, path = sealed
    types = [line[37:55].strip() for line in subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]]
    assert types and set(types) == {"CID Type 0C"}, types


def test_bare_cff_subsets_draw_the_glyphs_of_glyph_id_subsets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bare CFF subsets renumber glyphs and keep CIDs: every page must look as it does with
    subsets that keep glyph ids, wrapped in OpenType (WeasyPrint's own way). A wrong glyph differs
    by whole strokes; the two CFF rasterizations differ by a few levels of grey (18 seen)."""
    import numpy as np

    from documents import patches, pdf, render
    from documents.consent import TEMPLATES

    context = replace(sample_context("zh"), development_seal=True)
    html = pdf._render_html(context, content_sha256(context), pdf.current_sealer())
    html_type = patches.html_with_user_agent_stylesheet(pdf._user_agent_stylesheet())
    patches.apply()

    def pages() -> tuple[list[np.ndarray], str]:
        document = html_type(string=html, base_url=str(TEMPLATES)).render(
            stylesheets=[pdf._stylesheet()], font_config=render.shared_font_config())
        written = document.write_pdf()
        reader = pypdfium2.PdfDocument(written)
        try:
            return [np.asarray(page.render(scale=1.5).to_pil().convert("L"), dtype=int)
                    for page in reader], written.decode("latin-1")
        finally:
            reader.close()

    bare, bare_pdf = pages()
    monkeypatch.setattr(patches, "_face_is_cid_keyed", lambda face: False)
    kept, kept_pdf = pages()
    assert "/CIDFontType0C" in bare_pdf and "/CIDFontType0C" not in kept_pdf
    assert len(bare) == len(kept) == 5
    for number, (ours, theirs) in enumerate(zip(bare, kept, strict=True), start=1):
        assert np.abs(ours - theirs).max() < 48, f"page {number}"


def test_a_glyph_outside_the_font_stock_is_added_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faces are subset from a stock of common glyphs (documents/font_stock.py); a document
    that needs another glyph makes the stock again with it, keeping what it held."""
    from documents import font_stock

    seen: list[tuple[object, object, list[int]]] = []
    real = font_stock.stock_for

    def spy(key: object, face: object, glyphs: list[int]) -> font_stock.Stock | None:
        seen.append((key, face, list(glyphs)))
        return real(key, face, glyphs)

    monkeypatch.setattr(font_stock, "stock_for", spy)
    render_and_seal(sample_context("zh"), with_pages=False)
    key, face, used = seen[-1]
    monkeypatch.setattr(font_stock, "_stocks", {})
    common = real(key, face, used)
    assert common is not None and set(used) <= set(common.new_ids)
    assert 5_000 < len(common.new_ids) < 30_000  # GB 2312 and its forms, not the whole face
    rare = max(set(range(1, 60_000)) - set(common.new_ids))
    grown = real(key, face, [rare])
    assert grown is not None and rare in grown.new_ids and set(common.new_ids) <= set(grown.new_ids)
    assert real(key, face, [rare, *used]) is grown  # kept for the next document


def test_qpdf_finds_no_errors(sealed: tuple[str, SealedConsent, Path]) -> None:
    _, _, path = sealed
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)


def test_poppler_renders_without_complaint(sealed: tuple[str, SealedConsent, Path],
                                           tmp_path: Path) -> None:
    _, _, path = sealed
    run = subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stderr == ""


def test_pyhanko_validates_the_seal(sealed: tuple[str, SealedConsent, Path]) -> None:
    _, result, _ = sealed
    from io import BytesIO

    signature = PdfFileReader(BytesIO(result.pdf)).embedded_signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=trusted_certificates()))
    assert status.bottom_line and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_a_second_seal_reuses_the_space_of_the_first_and_validates() -> None:
    """The size pyHanko chose for the first seal is kept; later seals fit in it and validate."""
    from io import BytesIO

    from documents.seal import _reserved_space, current_sealer

    first = render_and_seal(sample_context("zh"), with_pages=False).pdf
    second = render_and_seal(sample_context("en"), with_pages=False).pdf
    assert _reserved_space(second) == _reserved_space(first) > 0
    signature = PdfFileReader(BytesIO(second)).embedded_signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=trusted_certificates()))
    assert status.bottom_line and status.trusted
    assert current_sealer().development


def test_a_kept_space_too_small_is_sized_afresh() -> None:
    """Should a TSA's answer outgrow the kept space, the seal is sized again, not refused."""
    from io import BytesIO

    from documents import seal

    render_and_seal(sample_context("zh"), with_pages=False)
    kept = dict(seal._signature_space)
    try:
        for key in kept:
            seal._signature_space[key] = 64  # far too small for any CMS signature
        second = render_and_seal(sample_context("zh"), with_pages=False).pdf
    finally:
        seal._signature_space.update(kept)
    assert seal._reserved_space(second) > 1000  # pyHanko sized it again
    signature = PdfFileReader(BytesIO(second)).embedded_signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=trusted_certificates()))
    assert status.bottom_line and status.trusted


def test_pdf_a_metadata_survives_sealing(sealed: tuple[str, SealedConsent, Path]) -> None:
    from io import BytesIO

    _, result, _ = sealed
    reader = PdfFileReader(BytesIO(result.pdf))
    root = reader.root
    xmp = root["/Metadata"].get_object().data
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="U"' in xmp
    assert "/OutputIntents" in root
    info = reader.trailer_view["/Info"].get_object()
    # PDF/A: every /Info entry agrees with the XMP that pyHanko rewrote when sealing
    assert f'pdf:Producer="{info["/Producer"]}"'.encode() in xmp
    assert f'pdf:Keywords="{info["/Keywords"]}"'.encode() in xmp
    assert str(info["/Keywords"]).startswith("jiahu-consent-id:")


def test_pages_are_png_images(sealed: tuple[str, SealedConsent, Path]) -> None:
    _, result, _ = sealed
    assert len(result.pages) >= 4
    assert all(page.startswith(b"\x89PNG\r\n\x1a\n") for page in result.pages)


def test_result_describes_itself(sealed: tuple[str, SealedConsent, Path]) -> None:
    import hashlib

    lang, result, _ = sealed
    assert result.sha256 == hashlib.sha256(result.pdf).hexdigest()
    assert result.development_seal
    dev = replace(sample_context(lang), development_seal=True)
    assert len(result.content_sha256) == 64 and result.content_sha256 != content_sha256(
        replace(dev, patient_name="王小明"))
    assert len(result.pdf) < 300_000


def test_the_consent_user_agent_stylesheet_covers_every_element_of_the_templates() -> None:
    """The consent renders with a user-agent stylesheet cut to its own elements
    (documents/templates/consent_ua.css): an element added to a template needs its rules there."""
    import re

    from documents.consent import TEMPLATES

    sheet = (TEMPLATES / "consent_ua.css").read_text()
    sheet = re.sub(r"/\*.*?\*/", "", sheet, flags=re.S)
    selectors = " ".join(re.findall(r"([^{}]+)\{", sheet.split("@page")[0]))
    covered = set(re.findall(r"(?<![-\w.#:\[])([a-z][a-z0-9]*)", selectors))
    without_rules = {"span", "circle", "polygon", "text"}  # inline text; drawn by the SVG renderer
    used = {tag for template in TEMPLATES.glob("*.j2")
            for tag in re.findall(r"<([a-z][a-z0-9]*)", template.read_text())}
    assert {"html", "table", "td", "ol", "li", "svg"} <= covered
    assert used - without_rules <= covered, used - without_rules - covered


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_consent_is_parsed_as_xhtml(lang: str) -> None:
    """The templates are well-formed XHTML (void elements closed, tables with their tbody), so
    expat parses a consent instead of WeasyPrint's slower HTML5 parser: an unclosed ``<br>`` in
    a template would silently cost ~10 ms a consent."""
    from documents import patches, pdf

    context = replace(sample_context(lang), signer_name="<王&龘>", development_seal=True)
    html = pdf._render_html(context, content_sha256(context), pdf.current_sealer())
    root = patches._xhtml_root(html)
    assert root is not None
    assert root.find(".//{http://www.w3.org/2000/svg}svg") is not None
    assert all(table.find("tbody") is not None for table in root.iter("table"))
    assert "<王&龘>" in "".join(root.itertext())


def test_html_that_is_not_xml_still_renders(tmp_path: Path) -> None:
    from documents import patches, pdf, render

    html = "<!DOCTYPE html><title>t</title><p>对话记录<br>王秀英<p>第二段"
    assert patches._xhtml_root(html) is None
    written = render.write_pdf(html, user_agent_stylesheet=pdf._user_agent_stylesheet())
    (tmp_path / "t.pdf").write_bytes(written)
    assert "王秀英" in _text(tmp_path / "t.pdf") and "第二段" in _text(tmp_path / "t.pdf")


def test_content_digest_ignores_the_audit_events() -> None:
    context = sample_context("zh", document_id="d" * 32)
    assert content_sha256(context) == content_sha256(replace(context, events=[]))
    assert content_sha256(context) != content_sha256(replace(context, signer_name="王龘龘"))


async def test_produce_runs_off_the_event_loop() -> None:
    result = await produce_sealed_consent(sample_context("zh"))
    assert result.pdf.startswith(b"%PDF-") and result.pages


def test_development_pair_is_created_once_and_reused(data_dir: Path) -> None:
    render_and_seal(sample_context("zh"), with_pages=False)
    cert = data_dir / "signing" / "development" / "seal.crt.pem"
    before = cert.read_bytes()
    render_and_seal(sample_context("zh"), with_pages=False)
    assert cert.read_bytes() == before


def test_chat_summary_renders() -> None:
    summary = consent_summary(sample_context("zh"))
    assert "伤口换药" in summary and "人民调解" in summary and "340" in summary
    english = consent_summary(sample_context("en"))
    assert "Wound dressing change" in english and "people's mediation" in english


def test_fast_subsetting_is_available_here() -> None:
    assert fast_subsetting_available()
    require_fast_subsetting()


def test_require_fast_subsetting_explains_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import documents.fonts

    monkeypatch.setattr(documents.fonts, "fast_subsetting_available", lambda: False)
    with pytest.raises(RuntimeError, match="apt-get install libharfbuzz-subset0"):
        documents.fonts.require_fast_subsetting()


def test_compacting_leaves_other_fonts_alone() -> None:
    assert compact_cff_font(b"\0\1\0\0rest") == b"\0\1\0\0rest"
