"""Words staff read: Chinese names of states, roles and channels, masked identifiers."""
from __future__ import annotations

import re

BOOKING_STATES = {"requested": "待审核", "confirmed": "已确认", "assigned": "已派护士", "completed": "已完成",
                  "rejected": "未通过", "cancelled": "已取消"}
COMPLAINT_STATES = {"open": "待处理", "in_progress": "处理中", "resolved": "已答复", "closed": "已关闭"}
STAFF_ROLES = {"hotline": "热线客服", "nurse_manager": "护理部", "admin": "管理员"}
WORKER_ROLES = {"nurse": "护士", "doctor": "医生", "therapist": "康复治疗师", "pharmacist": "药师"}
CHANNELS = {"wechat": "微信", "telegram": "Telegram", "terminal": "终端", "tryout": "网页体验"}
# The relation codes of nlu.entities.RELATION_LABELS (backend/ may not import nlu/).
RELATIONS = {"self": "本人", "mother": "母亲", "father": "父亲", "spouse": "配偶", "son": "儿子", "daughter": "女儿", "child": "子女",
             "mother_in_law": "婆婆/岳母", "father_in_law": "公公/岳父", "grandmother": "祖母/外祖母",
             "grandfather": "祖父/外祖父",
             "son_in_law": "女婿", "daughter_in_law": "儿媳", "grandchild": "孙辈",
             "maternal_grandmother": "外祖母", "maternal_grandfather": "外祖父", "paternal_grandmother": "祖母",
             "paternal_grandfather": "祖父", "sibling": "兄弟姐妹", "relative": "其他亲属",
             "caregiver": "护工/照护人", "friend": "朋友/邻居"}
LANGUAGES = {"zh": "中文", "en": "English"}
# What a family's event means, for the transcript (bot/wechat, bot/telegram, /try name them).
EVENTS = {"start": "开始对话", "subscribe": "关注公众号", "unsubscribe": "取消关注", "push": "系统推送"}
MENU_ACTIONS = {"book": "预约护理", "status": "查询预约", "cancel": "取消预约", "complaint": "投诉建议",
                "services": "服务项目", "human": "转人工", "rating": "评价", "data": "个人信息"}
FLOWS = {"intake": "预约申请", "cancel": "取消预约", "complaint": "投诉建议", "data_request": "个人信息申请",
         "rating": "服务评价"}
STEPS = {"privacy": "个人信息告知", "applicant": "谁来申请", "relation": "与患者关系", "applicant_name": "申请人姓名",
         "patient_name": "患者姓名", "id_number": "身份证号", "phone": "联系电话", "address": "上门地址",
         "district": "所在区", "upload_id": "上传身份证", "upload_records": "上传病历", "questionnaire": "评估问卷",
         "services": "选择服务", "present_same": "在场家属", "present_name": "在场人姓名",
         "present_relation": "在场人关系", "present_phone": "在场人电话", "review": "核对信息",
         "consent": "签署知情同意书", "slot": "选择上门时间", "confirm": "确认预约", "booking": "选择预约",
         "complaint_text": "投诉内容", "complaint_booking": "相关预约", "complaint_contact": "回复方式",
         "data_kind": "查看或删除", "data_confirm": "确认申请", "score": "评分", "comment": "评价留言"}
CONTACT = {"chat": "在对话中回复", "phone": "电话回复"}
DATA_REQUEST_KINDS = {"access": "查看", "delete": "删除"}
DATA_REQUEST_STATES = {"open": "待处理", "done": "已完成"}

_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^not active$"), "已停用"),
    (re.compile(r"^unknown role (.+)$"), "未知岗位 {0}"),
    (re.compile(r"^(\w+) needs at least (\d+) years of practice \((\d+)\)$"),
     "{0:role}需至少 {1} 年执业经历（现为 {2} 年）"),
    (re.compile(r"^title (.+) is not a (\w+) title \((.+)\)$"), "职称“{0}”不属于{1:role}职称（{2}）"),
    (re.compile(r"^title (.+) is below (.+)$"), "职称“{0}”低于{1}"),
    (re.compile(r"^the services need a (.+), not a (\w+)$"), "所选服务需要{0:roles}，而非{1:role}"),
    (re.compile(r"^does not serve (.+)$"), "不负责{0}"),
]


def _role_words(text: str) -> str:
    return "和".join(WORKER_ROLES.get(part, part) for part in text.split(" and "))


def qualification_reason(problem: str) -> str:
    """One problem from ``backend.care`` (English) in the words of a nurse manager."""
    for pattern, template in _REASONS:
        match = pattern.match(problem.strip())
        if match is None:
            continue
        parts = []
        for spec in re.findall(r"\{(\d+)(?::(\w+))?\}", template):
            value = match.group(int(spec[0]) + 1)
            parts.append(_role_words(value) if spec[1] in ("role", "roles") else value)
        remaining = iter(parts)
        return re.sub(r"\{\d+(?::\w+)?\}", lambda _m: next(remaining), template)
    return problem


def qualification_reasons(message: str) -> list[str]:
    """``NotQualified`` joins its problems with "; "."""
    return [qualification_reason(part) for part in message.split(";") if part.strip()]


def mask_id_number(value: str | None) -> str:
    """An ID number shown as 110105********002X (first six and last four kept)."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * (len(value) - 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """A phone number shown as 138****8000."""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else value


def capacity_reason(problem: str) -> str:
    """``backend.bookings.set_capacity``'s refusal (English) in the words of a nurse manager."""
    match = re.match(r"^(\d+) places are already booked; capacity cannot be (-?\d+)$", problem.strip())
    if match is None:
        return problem
    return f"该时段已有 {match.group(1)} 个预约，容量不能改为 {match.group(2)}（不能低于已预约数）。"


def event_words(event: str | None) -> str:
    """A channel event as staff read it: 点击菜单“预约护理”, 关注公众号."""
    if not event:
        return "事件"
    if event.startswith("menu:"):
        action = event.removeprefix("menu:")
        return f"点击菜单“{MENU_ACTIONS.get(action, action)}”"
    return EVENTS.get(event, event)


def step_words(flow: str | None, step: str | None, questions: dict[str, str] | None = None) -> str:
    """Where a family stopped, as staff say it: 预约申请 · 评估问卷（进食）."""
    if not flow and not step:
        return "菜单"
    words = FLOWS.get(flow or "", flow or "")
    if step and step.startswith("q_"):
        topic = (questions or {}).get(step.removeprefix("q_"), step.removeprefix("q_"))
        return f"{words} · 评估问卷（{topic}）"
    return f"{words} · {STEPS.get(step, step)}" if step else words


def duration(seconds: float) -> str:
    """A waiting time as staff read it: 刚刚, 12 分钟, 2 小时 5 分钟, 3 天 4 小时."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "刚刚"
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    days, hours = divmod(hours, 24)
    return f"{days} 天 {hours} 小时" if hours else f"{days} 天"


def actor_words(actor: str, staff_names: dict[str, str]) -> str:
    """Who made a change, as staff read it: 家属（微信）, 系统, or a colleague's name (李敏)."""
    if actor.startswith("family:"):
        channel = actor.removeprefix("family:")
        return f"家属（{CHANNELS.get(channel, channel)}）"
    if actor in ("system", "bot"):
        return "系统"
    return staff_names.get(actor, actor)
