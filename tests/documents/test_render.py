"""Every PDF is made by one rendering process, with the caller's settings and clock."""
from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from backend import clock
from backend.settings import get_settings
from documents import patches, render


async def test_work_runs_in_another_process_with_the_callers_clock_and_settings(data_dir: Path) -> None:
    assert await render.in_worker(os.getpid) != os.getpid()
    # the test clock stands days away from the calendar: the worker reads the caller's
    assert abs(await render.in_worker(clock.now) - clock.now()) < timedelta(minutes=1)
    assert (await render.in_worker(get_settings)).data_dir == data_dir


async def test_a_plain_pdf_is_made_there_too(tmp_path: Path) -> None:
    css = tmp_path / "page.css"
    css.write_text("@page { size: A5 } body { font-family: 'Noto Sans CJK SC' }")
    pdf = await render.html_to_pdf("<p>对话记录 王秀英</p>", css)
    (tmp_path / "page.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "page.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "王秀英" in text


def test_library_changes_are_applied_once() -> None:
    from weasyprint.pdf import fonts

    patches.apply()
    subset = fonts.Font.subset
    patches.apply()
    assert fonts.Font.subset is subset


def test_other_library_versions_render_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    import pydyf
    from weasyprint.pdf import fonts

    monkeypatch.setattr(patches, "_applied", False)
    monkeypatch.setattr(patches, "PYDYF_VERSIONS", ("0.0.",))
    monkeypatch.setattr(patches, "WEASYPRINT_VERSIONS", ("0.",))
    subset, data = fonts.Font.subset, pydyf.Stream.data
    patches.apply()
    assert fonts.Font.subset is subset and pydyf.Stream.data is data


async def test_the_rendering_process_yields_the_cpu_to_the_server() -> None:
    """A render competes with the families' turns for the CPU: the worker runs at a lower priority,
    and on Linux only on a CPU nothing else wants."""
    assert await render.in_worker(os.nice, 0) == min(19, os.nice(0) + render.WORKER_NICENESS)
    if hasattr(os, "SCHED_IDLE"):
        assert await render.in_worker(os.sched_getscheduler, 0) == os.SCHED_IDLE


def test_no_garbage_collection_runs_while_a_pdf_is_rendered() -> None:
    import gc

    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    html = "<p>" + "对话记录 王秀英 " * 400 + "</p>"  # tens of thousands of objects
    render.write_pdf(html)  # imports and fonts loaded before counting
    threshold = gc.get_threshold()
    gc.set_threshold(100, 10, 10)  # a collection every hundred new objects, were it enabled
    gc.callbacks.append(count)
    try:
        pdf = render.write_pdf(html)
        assert len(collections) <= 1 and gc.isenabled()  # one when collection resumes, not ~800
        gc.disable()
        render.write_pdf(html)
        assert not gc.isenabled()  # a caller's own choice stands
    finally:
        gc.enable()
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)
    assert pdf.startswith(b"%PDF-")


def test_asn1_values_are_encoded_once_per_change() -> None:
    """The seal's CMS values are encoded once, and again only after they change."""
    from asn1crypto import algos, cms, core

    patches.apply()
    encoded: list[str] = []
    set_contents = core.Sequence._set_contents

    def counting(value: core.Sequence, force: bool = False) -> None:
        encoded.append(type(value).__name__)
        set_contents(value, force)

    identifier = cms.IssuerAndSerialNumber({"issuer": x509_name("甲医院"), "serial_number": 7})
    info = cms.SignerInfo({"version": "v1", "sid": cms.SignerIdentifier({"issuer_and_serial_number": identifier}),
                           "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                           "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                           "signature": b"\x01" * 8})
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(core.Sequence, "_set_contents", counting)
        first = info.dump()
        encoded.clear()
        assert info.dump() == first and encoded == []  # nothing changed: nothing encoded again
        info["digest_algorithm"]["algorithm"] = "sha512"  # a change deep inside is seen
        changed = info.dump()
    assert changed != first and cms.SignerInfo.load(changed)["digest_algorithm"]["algorithm"].native == "sha512"
    assert cms.SignerInfo.load(first)["signature"].native == b"\x01" * 8


def x509_name(common_name: str) -> object:
    from asn1crypto import x509

    return x509.Name.build({"common_name": common_name})
