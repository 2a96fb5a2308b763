"""``jiahu wechat menu``: the menu is a data file a hospital can change."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.wechat import load_menu, publish_menu
from bot.wechat.api import WeChatAPI

from .fakes import APPID, SECRET  # noqa: TID252

MENU_ACTIONS = {"book", "status", "cancel", "complaint", "services", "human"}


def _keys(buttons: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for button in buttons:
        keys += _keys(button.get("sub_button", [])) if "sub_button" in button else [button["key"]]
    return keys


def test_packaged_menu_names_the_bot_actions() -> None:
    menu = load_menu()
    assert [b["name"] for b in menu["button"]] == ["预约护理", "我的预约", "投诉建议"]
    assert _keys(menu["button"]) == ["book", "status", "cancel", "complaint"]
    assert set(_keys(menu["button"])) <= MENU_ACTIONS


def test_hospital_menu_in_config_dir_wins(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    from backend.settings import get_settings

    (tmp_path / "wechat_menu.yaml").write_text(
        "button:\n  - {name: 人工客服, type: click, key: human}\n", "utf-8")
    monkeypatch.setenv("JIAHU_CONFIG_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert _keys(load_menu()["button"]) == ["human"]
    publish_menu(file=None, dry_run=True)
    assert "人工客服" in capsys.readouterr().out


async def test_menu_is_published_as_utf8_json(runtime: Any, fake_wechat: Any) -> None:
    runtime.settings.wechat_appid, runtime.settings.wechat_secret = APPID, SECRET
    runtime.settings.wechat_api_url = fake_wechat.url
    api = WeChatAPI(runtime.settings, runtime.sessions)
    try:
        await api.create_menu(load_menu())
    finally:
        await api.close()
    assert fake_wechat.menus == [load_menu()]
