"""WeChat Official Account channel (issue #3): webhook, safe mode, customer-service API."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from aiohttp import web

from bot.runtime import Runtime
from bot.wechat import upload_page
from bot.wechat.api import WeChatAPI
from bot.wechat.webhook import WeChatWebhook

cli = typer.Typer(help="WeChat Official Account.", no_args_is_help=True)

MENU_FILE = Path(__file__).with_name("menu.yaml")
WEBHOOK = web.AppKey("wechat_webhook", WeChatWebhook)


def setup(app: web.Application, runtime: Runtime) -> None:
    """Register the WeChat webhook on the app when the channel is configured."""
    if not runtime.settings.wechat_token:
        return
    api = WeChatAPI(runtime.settings, runtime.sessions)
    webhook = WeChatWebhook(runtime, api)
    app[WEBHOOK] = webhook
    runtime.senders["wechat"] = webhook.deliver  # queued notifications go out as 客服消息
    app.router.add_get("/wechat", webhook.verify)
    app.router.add_post("/wechat", webhook.receive)
    upload_page.setup(app, runtime)  # where a family sends the PDFs WeChat will not carry

    async def _drain(app: web.Application) -> None:
        await webhook.drain()

    async def _close(app: web.Application) -> None:
        await api.close()

    app.on_shutdown.append(_drain)
    app.on_cleanup.append(_close)


def load_menu(path: Path | None = None) -> dict[str, Any]:
    """The custom menu: ``path``, else the hospital's ``wechat_menu.yaml``, else the packaged one."""
    from backend.settings import get_settings

    if path is None:
        override = get_settings().config_dir
        path = override / "wechat_menu.yaml" if override and (override / "wechat_menu.yaml").exists() \
            else MENU_FILE
    menu = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(menu, dict) or not menu.get("button"):
        raise typer.BadParameter(f"{path}: expected a 'button' list")
    return menu


@cli.command("menu")
def publish_menu(file: Annotated[Path | None, typer.Option(help="Menu YAML (default: the hospital's "
                                                           "wechat_menu.yaml or the packaged menu).")] = None,
                 dry_run: Annotated[bool, typer.Option(help="Print the menu JSON, publish nothing.")] = False,
                 ) -> None:
    """Publish the Official Account's custom menu (预约护理 / 我的预约 / 投诉建议)."""
    import json

    from backend.settings import get_settings
    from bot.runtime import open_runtime

    menu = load_menu(file)
    if dry_run:
        typer.echo(json.dumps(menu, ensure_ascii=False, indent=2))
        return
    settings = get_settings()
    if not (settings.wechat_appid and settings.wechat_secret):
        raise typer.BadParameter("set JIAHU_WECHAT_APPID and JIAHU_WECHAT_SECRET")

    async def run() -> None:
        runtime = await open_runtime(settings)
        api = WeChatAPI(settings, runtime.sessions)
        try:
            await api.create_menu(menu)
        finally:
            await api.close()
            await runtime.close()

    asyncio.run(run())
    typer.echo("menu published")

