"""documents.weasyprint_speed: the consents render the same, page by page and word by word,
with WeasyPrint's own code as with the changes.

Each side renders in a process of its own, so that nothing one side leaves in WeasyPrint's caches
(struts, fonts) is used by the other. Each first seals three other families' consents, as a
rendering process in service has, then each sample consent twice: the second time every line is
one ``line_memo`` kept.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from documents import weasyprint_speed

pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_ID = "5eed0000-0000-4000-8000-00000000c0de"
_RENDER = """
import json, subprocess, sys
from datetime import UTC, datetime
from pathlib import Path

from backend import clock
from documents import patches, weasyprint_speed
from documents.pdf import render_and_seal
from documents.sample import sample_context

out, names = Path(sys.argv[1]), frozenset(json.loads(sys.argv[2]))
clock.install(clock.PinnedClock(datetime(2026, 11, 20, 9, 30, tzinfo=UTC)))
patches.apply()
lines = {}
with weasyprint_speed.only(names):
    installed = sorted(n for n, c in weasyprint_speed.CHANGES.items() if c.installed)
    for lang in ("zh", "en"):
        for family in (1, 2, 3):  # other families' consents first, as in service
            render_and_seal(sample_context(lang, family=family), with_pages=False)
        lines[f"{lang}-others"] = len(weasyprint_speed._lines)
        for folder, name in ((out, lang), (out / "again", f"{lang}-again")):
            # the second time every line was laid out before
            folder.mkdir(exist_ok=True)
            result = render_and_seal(sample_context(lang, document_id=sys.argv[3]))
            (folder / f"{lang}.pdf").write_bytes(result.pdf)
            for number, image in enumerate(result.pages):
                (folder / f"{lang}-{number}.png").write_bytes(image)
            text = subprocess.run(["pdftotext", str(folder / f"{lang}.pdf"), "-"], check=True,
                                  capture_output=True, text=True).stdout
            (folder / f"{lang}.txt").write_text(text)
            lines[name] = len(weasyprint_speed._lines)
print(json.dumps({"installed": installed, "lines": lines}))
"""


def _render(out: Path, names: frozenset[str]) -> dict[str, Any]:
    """Render the sample consents in a new process with exactly the changes ``names``: the
    changes that were installed while it rendered, and how many lines ``line_memo`` held after
    the other families' consents (``zh-others``, ``en-others``) and after each compared one
    (``zh``, ``zh-again``, …; the second render of each is in the folder ``again``)."""
    out.mkdir()
    done = subprocess.run([sys.executable, "-c", _RENDER, str(out), json.dumps(sorted(names)),
                           DOCUMENT_ID], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory,
             data_dir: Path) -> tuple[Path, Path, dict[str, int]]:
    """Plain and changed renders into two folders (the seal's certificate made once before),
    and the lines the changed process kept."""
    from documents.seal import current_sealer

    with pytest.MonkeyPatch.context() as monkeypatch:
        from tests.documents.conftest import use_data_dir

        use_data_dir(monkeypatch, data_dir)
        current_sealer()  # both processes then read the same development certificate
        base = tmp_path_factory.mktemp("weasyprint-speed")
        every = frozenset(weasyprint_speed.CHANGES)
        assert _render(base / "plain", frozenset())["installed"] == []
        changed = _render(base / "changed", every)
        assert changed["installed"] == sorted(every)
    return base / "plain", base / "changed", changed["lines"]


@pytest.fixture
def renders(rendered: tuple[Path, Path, dict[str, int]]) -> tuple[Path, Path]:
    return rendered[0], rendered[1]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("folder", ["", "again"])
def test_every_page_looks_the_same(renders: tuple[Path, Path], lang: str, folder: str) -> None:
    plain, changed = renders
    changed = changed / folder
    pages = sorted(path.name for path in plain.glob(f"{lang}-*.png"))
    assert len(pages) >= 5
    assert pages == sorted(path.name for path in changed.glob(f"{lang}-*.png"))
    different = [name for name in pages
                 if (plain / name).read_bytes() != (changed / name).read_bytes()]
    assert different == []


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("folder", ["", "again"])
def test_every_page_is_drawn_with_the_same_operators(renders: tuple[Path, Path], lang: str,
                                                     folder: str) -> None:
    plain, changed = renders
    assert (_page_contents(changed / folder / f"{lang}.pdf")
            == _page_contents(plain / f"{lang}.pdf"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lines_measured_once_are_drawn_from_then_on(rendered: tuple[Path, Path, dict[str, int]],
                                                   lang: str) -> None:
    """Most lines of a consent are in every consent: after three other families' consents, the
    family's own measures few new lines, and the same consent again none; both are drawn as
    WeasyPrint draws them (the tests above)."""
    *_, lines = rendered
    before = lines["zh-again"] if lang == "en" else 0
    others = lines[f"{lang}-others"] - before
    new = lines[lang] - lines[f"{lang}-others"]
    assert others >= 250
    assert 0 < new < others / 6
    assert lines[f"{lang}-again"] == lines[lang]


def _page_contents(path: Path, pages: int = 5) -> list[bytes]:
    """Each page's content stream, decompressed (what WeasyPrint drew, operator by operator)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with path.open("rb") as file:
        reader = PdfFileReader(file)
        contents = []
        for page in reader.root["/Pages"]["/Kids"]:
            stream = page.get_object()["/Contents"]
            streams = stream if isinstance(stream, list) else [stream]
            contents.append(b"".join(part.get_object().data for part in streams))
        assert len(contents) >= pages
        return contents


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_text_is_the_same(renders: tuple[Path, Path], lang: str) -> None:
    plain, changed = renders
    text = (plain / f"{lang}.txt").read_text()
    assert "SHA-256" in text
    assert (changed / f"{lang}.txt").read_text() == text


def test_the_comparison_sees_a_change(renders: tuple[Path, Path], data_dir: Path,
                                      tmp_path: Path) -> None:
    """The comparison fails for a render that is not the same: every line half a point lower
    (the text stays the same, so only the images and the operators can tell)."""
    plain, _ = renders
    moved = tmp_path / "moved"
    with pytest.MonkeyPatch.context() as monkeypatch:
        from tests.documents.conftest import use_data_dir

        use_data_dir(monkeypatch, data_dir)
        moved.mkdir()
        subprocess.run([sys.executable, "-c", _MOVED + _RENDER, str(moved), "[]", DOCUMENT_ID],
                       cwd=ROOT, check=True, capture_output=True)
    assert (moved / "zh-0.png").read_bytes() != (plain / "zh-0.png").read_bytes()
    assert _page_contents(moved / "zh.pdf") != _page_contents(plain / "zh.pdf")
    # the same characters (pdftotext may order the lines of side-by-side boxes differently)
    assert sorted("".join((moved / "zh.txt").read_text().split())) == sorted(
        "".join((plain / "zh.txt").read_text().split()))


# WeasyPrint drawing every line half a point lower: what a wrong change could do
_MOVED = """
from weasyprint.draw import text as _text
_draw = _text.draw_first_line
def _lower(stream, textbox, text_overflow, block_ellipsis, matrix):
    matrix[2][1] += 0.5
    return _draw(stream, textbox, text_overflow, block_ellipsis, matrix)
_text.draw_first_line = _lower
"""


def test_library_changes_are_applied_once() -> None:
    from weasyprint.text.line_break import Layout

    weasyprint_speed.apply()
    setup = Layout.setup
    weasyprint_speed.apply()
    assert Layout.setup is setup


def test_other_weasyprint_versions_render_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.text.line_break import Layout

    with weasyprint_speed.plain_weasyprint():
        setup = Layout.setup
        monkeypatch.setattr(weasyprint_speed, "WEASYPRINT_VERSIONS", ("0.",))
        weasyprint_speed.apply()
        assert Layout.setup is setup


_FEATURES = """
<html lang="en">
<style>
  @page { size: A6; margin: 10mm }
  table { border-collapse: collapse; color: hsl(200 60% 30%) }
  td { border: 1px solid hwb(120 10% 20%); padding: 2px }
  tr.thick td { border-top: 3px double #c00 }
  .float { float: right; width: 20mm; height: 10mm; background: #eee }
  .outlined { outline: 2px dashed rgb(0 0 255 / 50%) }
  .rtl { direction: rtl }
  .narrow { width: 30mm }
  .clamped { line-clamp: 2 }
</style>
<p class="outlined">An outlined paragraph <a href="https://example.org">with a link</a>.</p>
<div class="float"></div>
<p>Text that flows beside a float, long enough to wrap onto a few lines beside it and below.</p>
<p class="rtl">A right-to-left paragraph, aligned from the right.</p>
<table><tr><td>one</td><td>two</td></tr><tr class="thick"><td>three</td><td>four</td></tr></table>
<p class="narrow clamped">Words that wrap onto several lines of a narrow box, clamped to two.</p>
<p class="narrow">Words that wrap onto several lines of a narrow box, clamped to two.</p>
"""


@pytest.mark.parametrize("left_out", [frozenset(), frozenset({"glyph_runs"})],
                         ids=["every-change", "without-glyph-runs"])
def test_features_the_consents_do_not_use_are_drawn_the_same(tmp_path: Path,
                                                             left_out: frozenset[str]) -> None:
    """A tagged PDF (marked content around artifacts) of a page with what the consents lack
    (a float, right-to-left text, an outline, HSL and HWB colours, a double collapsed border,
    lines clamped with an ellipsis and the same lines unclamped) draws the same with and
    without the changes, also when every line was measured before (the second time); also
    without ``glyph_runs``, whose drawing gives a clamped line a layout of its own."""
    from weasyprint import HTML

    changes = frozenset(weasyprint_speed.CHANGES) - left_out
    weasyprint_speed._lines.clear()
    contents = []
    for name, context in (("plain", weasyprint_speed.plain_weasyprint()),
                          ("changed", weasyprint_speed.only(changes)),
                          ("again", weasyprint_speed.only(changes))):
        with context:
            pdf = HTML(string=_FEATURES).write_pdf(pdf_tags=True)
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        contents.append(_page_contents(tmp_path / f"{name}.pdf", pages=1))
    assert b"/Artifact\nBMC" in contents[0][0]
    assert contents[1] == contents[0]
    assert contents[2] == contents[0]
