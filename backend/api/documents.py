"""Files for staff and the hospital's system: uploaded records and the sealed consent PDFs.
Each reading is recorded in the audit log (DOMAIN.md: 全程留痕)."""
from __future__ import annotations

import mimetypes

from aiohttp import web

from backend.queries import open_consent_pdf, open_upload

from .errors import ApiError
from .routing import Call, route

_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@route("GET", "/api/uploads/{upload_id:\\d{1,9}}", scope="uploads:read", tag="documents",
       media_type="application/octet-stream", errors=(404,))
async def upload(call: Call) -> web.Response:
    """An uploaded file (ID photo, medical record), decrypted, with its content type."""
    item, data = await open_upload(call.session, call.int_arg("upload_id"), call.actor)
    extension = mimetypes.guess_extension(item.content_type) or ""
    # The family's own file name may carry a name; a neutral one is given instead.
    return web.Response(body=data, content_type=item.content_type, headers={
        **_PRIVATE, "Content-Disposition": f'inline; filename="upload-{item.id}{extension}"'})


@route("GET", "/api/consents/{document_id:[A-Za-z0-9_-]{1,40}}.pdf", scope="consents:read",
       tag="documents", media_type="application/pdf", errors=(404, 409))
async def consent_pdf(call: Call) -> web.Response:
    """The signed agreement and informed consent (知情同意书) as a sealed PDF."""
    document_id = call.arg("document_id")
    try:
        _, data = await open_consent_pdf(call.session, document_id, call.actor)
    except LookupError as error:
        raise ApiError(409, str(error)) from None
    return web.Response(body=data, content_type="application/pdf", headers={
        **_PRIVATE, "Content-Disposition": f'attachment; filename="consent-{document_id}.pdf"'})
