from __future__ import annotations

from backend.crypto import Vault, mask
from backend.logs import mask_text


def test_logs_mask_id_numbers_and_phones():
    line = mask_text("patient 11010519491231002X phone 13800138000 booking JH261126000001")
    assert "11010519491231002X" not in line and "110105********002X" in line
    assert "13800138000" not in line and "138****8000" in line
    assert "JH261126000001" in line


def test_vault_round_trip_and_blind_index():
    vault = Vault("k1")
    token = vault.encrypt_text("11010519491231002X")
    assert "1101" not in token and vault.decrypt_text(token) == "11010519491231002X"
    assert vault.blind_index("138 0013 8000") == vault.blind_index("13800138000")
    assert Vault("k2").blind_index("13800138000") != vault.blind_index("13800138000")
    assert mask("13800138000") == "*******8000"


def test_tracebacks_carry_no_local_variables_and_are_masked(capsys):
    import logging

    import structlog

    from backend.logs import configure_logging

    configure_logging("INFO")

    def turn(id_number: str, openid: str) -> None:
        raise ValueError(f"bad patient 11010519491231002X phone 13800138000 ({len(id_number)})")

    openid = "oWx_" + "secret_openid"  # never spelled out in a source line the traceback shows
    try:
        turn("11010519491231002X", openid)
    except ValueError:
        structlog.get_logger("test").exception("turn.failed")
        logging.getLogger("aiohttp.server").exception("Error handling request")
    err = capsys.readouterr().err
    assert "turn.failed" in err and "Error handling request" in err
    assert err.count("ValueError: bad patient 110105********002X phone 138****8000") == 2
    assert "11010519491231002X" not in err and "13800138000" not in err
    assert "oWx_secret_openid" not in err  # local variables are not shown


def test_logs_are_json_lines_when_stderr_is_not_a_terminal(capsys):
    import json

    import structlog

    from backend.logs import configure_logging

    configure_logging("INFO")
    structlog.get_logger("test").info("turn", user="13800138000", replies=2)
    structlog.get_logger("test").debug("delivery.passive", rows=1)  # below the level: not written
    [line] = capsys.readouterr().err.splitlines()
    event = json.loads(line)
    assert event["event"] == "turn" and event["level"] == "info" and event["replies"] == 2
    assert event["user"] == "138****8000"


def test_weasyprint_rendering_steps_stay_out_of_the_log(capsys):
    import logging

    from backend.logs import configure_logging

    configure_logging("INFO")
    logging.getLogger("weasyprint.progress").info("Step 2 - Fetching and parsing CSS - CSS string")
    logging.getLogger("weasyprint").warning("Ignored `foo: bar` at 1:1, unknown property.")
    err = capsys.readouterr().err
    assert "Step 2" not in err
    assert "unknown property" in err  # WeasyPrint's warnings still are
