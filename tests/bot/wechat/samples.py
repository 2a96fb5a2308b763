"""Real WeChat pushes, as the platform sends them. Only ``FromUserName`` (and ``CreateTime``,
so that each push is new) are replaced by the test family's; everything else is verbatim.

- SUBSCRIBE_MSG_POPUP / _CHANGE / _SENT: WeChat's documentation of 订阅通知 events
  (developers.weixin.qq.com, 订阅消息事件推送), the same XML WxJava's ``WxMaMessageTest`` and
  Senparc.Weixin's ``RequestMessageFactoryTest`` parse.
- SCAN: WeChat's documentation of 扫描带参数二维码事件 (用户已关注时), as in wechatpy's and
  WeRoBot's event tables.
- KF_CREATE_SESSION and LOCATION_SELECT: wechatpy's ``tests/test_events.py``
  (test_kf_create_session_event, test_location_select_event).
- FILE: a file message as an official account receives it, from Senparc.Weixin's
  ``MessageHandlerTest`` (文件类型测试; its compatible-mode ``Encrypt`` element left out).
"""
from __future__ import annotations

import itertools
import re
import time

SUBSCRIBE_MSG_POPUP = """<xml>
    <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
    <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
    <CreateTime>1610969440</CreateTime>
    <MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_popup_event]]></Event>
    <SubscribeMsgPopupEvent>
        <List>
            <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
            <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
            <PopupScene>2</PopupScene>
        </List>
        <List>
            <TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId>
            <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
            <PopupScene>2</PopupScene>
        </List>
    </SubscribeMsgPopupEvent>
</xml>"""

SUBSCRIBE_MSG_CHANGE = """<xml>
    <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
    <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
    <CreateTime>1610969468</CreateTime>
    <MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_change_event]]></Event>
    <SubscribeMsgChangeEvent>
        <List>
            <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
            <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
        </List>
    </SubscribeMsgChangeEvent>
</xml>"""

SUBSCRIBE_MSG_SENT = """<xml>
    <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
    <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
    <CreateTime>1610969468</CreateTime>
    <MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_sent_event]]></Event>
    <SubscribeMsgSentEvent>
        <List>
            <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
            <MsgID>1700827132819554304</MsgID>
            <ErrorCode>0</ErrorCode>
            <ErrorStatus><![CDATA[success]]></ErrorStatus>
        </List>
    </SubscribeMsgSentEvent>
</xml>"""

SCAN = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[SCAN]]></Event>
<EventKey><![CDATA[SCENE_VALUE]]></EventKey>
<Ticket><![CDATA[TICKET]]></Ticket>
</xml>"""

KF_CREATE_SESSION = """<xml>
        <ToUserName><![CDATA[touser]]></ToUserName>
        <FromUserName><![CDATA[fromuser]]></FromUserName>
        <CreateTime>1399197672</CreateTime>
        <MsgType><![CDATA[event]]></MsgType>
        <Event><![CDATA[kf_create_session]]></Event>
        <KfAccount><![CDATA[test1@test]]></KfAccount>
        </xml>"""

LOCATION_SELECT = """<xml>
        <ToUserName><![CDATA[gh_e136c6e50636]]></ToUserName>
        <FromUserName><![CDATA[oMgHVjngRipVsoxg6TuX3vz6glDg]]></FromUserName>
        <CreateTime>1408091189</CreateTime>
        <MsgType><![CDATA[event]]></MsgType>
        <Event><![CDATA[location_select]]></Event>
        <EventKey><![CDATA[6]]></EventKey>
        <SendLocationInfo><Location_X><![CDATA[23]]></Location_X>
        <Location_Y><![CDATA[113]]></Location_Y>
        <Scale><![CDATA[15]]></Scale>
        <Label><![CDATA[广州市海珠区客村艺苑路 106号]]></Label>
        <Poiname><![CDATA[]]></Poiname>
        </SendLocationInfo>
        </xml>"""

FILE = """<xml>
    <ToUserName><![CDATA[gh_8a50de30e55a]]></ToUserName>
    <FromUserName><![CDATA[o5lE40xwHOqG8riO_EOZQV3JYCV8]]></FromUserName>
    <CreateTime>1519483978</CreateTime>
    <MsgType><![CDATA[file]]></MsgType>
    <Title><![CDATA[test.zip]]></Title>
    <Description><![CDATA[]]></Description>
    <FileKey><![CDATA[BAAAAAAAAACJHA0y]]></FileKey>
    <FileMd5><![CDATA[95d98d3bf1b251a9e4a40f3bd88eef29]]></FileMd5>
    <FileTotalLen>222</FileTotalLen>
    <MsgId>6526133992738756795</MsgId>
</xml>"""

_times = itertools.count(int(time.time()) + 100_000)


def from_family(sample: str, openid: str) -> str:
    """The sample as pushed for ``openid``, with a creation time of its own."""
    sample = re.sub(r"<FromUserName><!\[CDATA\[[^\]]*\]\]></FromUserName>",
                    f"<FromUserName><![CDATA[{openid}]]></FromUserName>", sample)
    sample = re.sub(r"<MsgId>\d+</MsgId>", f"<MsgId>{next(_times)}</MsgId>", sample)
    return re.sub(r"<CreateTime>\d+</CreateTime>", f"<CreateTime>{next(_times)}</CreateTime>", sample)
