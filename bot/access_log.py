"""The web server's access log, without query strings: WeChat signs its pushes in the query
(``signature``, ``timestamp``, ``nonce``, ``msg_signature``) and adds the family's ``openid``;
download links carry their signature there too. A logged query could sign a forged message."""
from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class AccessLog(AbstractAccessLogger):
    """One line a request: client, method, path (never the query string), status, size, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s %s %.3fs', request.remote, request.method, request.path,
                         response.status, response.body_length, time)
