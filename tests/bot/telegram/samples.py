"""Real Bot API payloads, as Telegram sends them, from pyTelegramBotAPI's test suite
(github.com/eternnoir/pyTelegramBotAPI, tests/test_types.py at 00798df0: test_json_Message_Location,
test_json_contact, test_json_update). Only the chat and sender ids are set to the test family's
and the contact's number to the case under test; everything else is as in the source."""
from __future__ import annotations

import json
from typing import Any

# test_json_Message_Location: a location shared from the attachment menu (coordinates only)
LOCATION_MESSAGE = json.loads(
    r'{"message_id":102,"from":{"id":108734,"first_name":"dd","last_name":"dd","username":"dd",'
    r'"is_bot":true },"chat":{"id":1089734,"first_name":"dd","type":"private","last_name":"dd",'
    r'"username":"dd"},"date":1535482469,"location":{"longitude":127.479471,"latitude":26.090577}}')

# test_json_contact: a contact as "share my phone number" sends it
CONTACT = json.loads(r'{"phone_number":"00011111111","first_name":"dd","last_name":"ddl","user_id":8633}')

# test_json_update: an update around a text message
UPDATE = json.loads(
    r'{"update_id":938203,"message":{"message_id":241,"from":{"is_bot":true,"id":9734,"first_name":"Fk",'
    r'"last_name":"Wg","username":"nir"},"chat":{"id":1111,"first_name":"Fk","type":"private",'
    r'"last_name":"Wg","username":"oir"},"date":1441447009,"text":"HIHI"}}')


def as_family(message: dict[str, Any], chat_id: int) -> dict[str, Any]:
    """The sample message as the test family's (a person, in their private chat)."""
    message = json.loads(json.dumps(message))
    message["chat"]["id"] = message["from"]["id"] = chat_id
    message["from"]["is_bot"] = False
    return message
