"""``jiahu consent sample`` and ``jiahu consent verify``, run as a hospital clerk would."""
from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from documents.cli import app

pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    from tests.documents.conftest import use_data_dir

    out = tmp_path_factory.mktemp("cli") / "consent.pdf"
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_data_dir(monkeypatch, data_dir)
        result = runner.invoke(app, ["sample", "--out", str(out), "--lang", "zh", "--pages"])
    assert result.exit_code == 0, result.output
    return out


def test_sample_writes_a_sealed_pdf_and_its_pages(sample_pdf: Path) -> None:
    assert sample_pdf.read_bytes().startswith(b"%PDF-")
    assert sample_pdf.with_name("consent-page1.png").read_bytes().startswith(b"\x89PNG")


def test_sample_in_english(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / "en.pdf"), "--lang", "en"])
    assert result.exit_code == 0 and "development seal" in result.output


def test_verify_accepts_the_sealed_file(sample_pdf: Path) -> None:
    result = runner.invoke(app, ["verify", str(sample_pdf)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VALID:") and "unchanged since sealing" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, -100])
def test_verify_rejects_a_changed_byte(sample_pdf: Path, tmp_path: Path, where: float) -> None:
    data = bytearray(sample_pdf.read_bytes())
    position = int(len(data) * where) if where > 0 else len(data) + int(where)
    data[position] ^= 0x01
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", str(changed)])
    assert result.exit_code != 0, result.output
    assert result.output.startswith("INVALID:")


def test_verify_rejects_an_unsealed_pdf(tmp_path: Path) -> None:
    from weasyprint import HTML

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(HTML(string="<p>不是同意书</p>").write_pdf())
    result = runner.invoke(app, ["verify", str(plain)])
    assert result.exit_code == 1 and "no hospital seal" in result.output


def test_verify_rejects_a_seal_it_does_not_trust(sample_pdf: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.settings import get_settings

    monkeypatch.setenv("JIAHU_DATA_DIR", str(tmp_path / "other-hospital"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["verify", str(sample_pdf)])
    assert result.exit_code == 1, result.output


async def _record(url: str, document_id: str, pdf_sha256: str | None) -> None:
    from backend.db import make_engine, make_sessionmaker, transaction
    from backend.models import ChannelUser, Consent, Intake

    engine = make_engine(url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            user = ChannelUser(channel="wechat", external_id="o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
            session.add(user)
            await session.flush()
            intake = Intake(channel_user_id=user.id, privacy_notice_version="2026-11")
            session.add(intake)
            await session.flush()
            session.add(Consent(document_id=document_id, intake_id=intake.id,
                                template_version="2026-11", language="zh",
                                summary_sha256="0" * 64, channel="wechat",
                                channel_external_id=user.external_id, pdf_sha256=pdf_sha256))
    finally:
        await engine.dispose()


def _document_id(pdf: Path) -> str:
    from documents.verify import verify_consent_pdf

    document_id = verify_consent_pdf(pdf.read_bytes(), check_database=False).document_id
    assert document_id
    return document_id


def test_verify_matches_the_database_record(sample_pdf: Path, database_url: str) -> None:
    digest = hashlib.sha256(sample_pdf.read_bytes()).hexdigest()
    asyncio.run(_record(database_url, _document_id(sample_pdf), digest))
    result = runner.invoke(app, ["verify", str(sample_pdf)])
    assert result.exit_code == 0, result.output
    assert "matches the database record" in result.output


def test_verify_rejects_a_file_the_database_does_not_match(sample_pdf: Path,
                                                          database_url: str) -> None:
    asyncio.run(_record(database_url, _document_id(sample_pdf), "f" * 64))
    result = runner.invoke(app, ["verify", str(sample_pdf)])
    assert result.exit_code == 1, result.output
    assert "not the copy recorded in the database" in result.output


def test_a_seal_with_a_tsa_verifies_with_its_timestamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PAdES B-T: JIAHU_TSA_URL adds an RFC 3161 timestamp, which `verify` reports."""
    from backend import clock
    from tests.documents.tsa import local_tsa

    out = tmp_path / "stamped.pdf"
    with local_tsa(tmp_path) as tsa:
        monkeypatch.setenv("JIAHU_TSA_URL", tsa.url)
        monkeypatch.setenv("JIAHU_TSA_TRUST", str(tsa.root_pem))
        from tests.conftest import _reset_caches

        _reset_caches()
        result = runner.invoke(app, ["sample", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert tsa.requests  # pyHanko asks once to size the signature, then for the real token
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 0, result.output
    stamped_at = clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M")  # the service's clock
    assert f"timestamp {stamped_at}" in result.output and "by jiahu test TSA, trusted" in result.output

    monkeypatch.delenv("JIAHU_TSA_TRUST")
    _reset_caches()
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 0 and "not trusted here" in result.output, result.output


def test_without_a_tsa_the_seal_has_no_timestamp(sample_pdf: Path) -> None:
    result = runner.invoke(app, ["verify", str(sample_pdf)])
    assert "no timestamp (PAdES B-B)" in result.output


def test_an_unreachable_tsa_fails_the_seal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sealing job fails (and is retried by the outbox) rather than sealing without a timestamp."""
    from tests.conftest import _reset_caches

    monkeypatch.setenv("JIAHU_TSA_URL", "http://127.0.0.1:9/tsa")
    _reset_caches()
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and not (tmp_path / "x.pdf").exists()
