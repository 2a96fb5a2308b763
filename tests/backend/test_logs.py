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
