"""Global commands work at every step, in Chinese and English."""
from __future__ import annotations

from sqlalchemy import select

from backend.models import HandoffRequest


async def test_human_handoff_queues_the_family_once(dialogue, runtime):
    await dialogue.intake(until="phone")
    assert "转接人工客服" in await dialogue.say("转人工")
    assert "转接人工客服" in await dialogue.say("我要找人工客服")
    async with runtime.sessions() as session:
        requests = (await session.execute(select(HandoffRequest))).scalars().all()
    assert len(requests) == 1 and requests[0].step == "phone" and requests[0].status == "waiting"
    assert "详细地址" in await dialogue.say("13800138000")  # the flow goes on meanwhile


async def test_back_undoes_the_last_answer(dialogue):
    await dialogue.intake(until="patient_name")
    assert "您（申请人）的姓名" in await dialogue.say("返回")
    assert "患者的姓名" in await dialogue.say("张小丽")
    assert "18位身份证号码" in await dialogue.say("王秀英")
    assert "患者的姓名" in await dialogue.say("back")


async def test_back_at_the_first_question(dialogue):
    await dialogue.play([("预约", "个人信息处理告知"), ("返回", "已经是第一个问题了")])


async def test_restart_starts_the_flow_over(dialogue):
    await dialogue.intake(until="id_number")
    answer = await dialogue.say("重新开始")
    assert "从头开始" in answer and "个人信息处理告知" in answer
    assert "家属代为申请" in await dialogue.say("1")


async def test_help_explains_the_current_question_and_asks_it_again(dialogue):
    await dialogue.intake(until="q_bathing")
    answer = await dialogue.say("帮助")
    assert "洗澡" in answer and "返回" in answer and "转人工" in answer
    assert "1. 能自己洗" in answer
    assert "修饰" in await dialogue.say("1")


async def test_cancel_keeps_the_answers_and_continue_resumes(dialogue):
    await dialogue.intake(until="address")
    answer = await dialogue.say("取消")
    assert "已退出当前办理" in answer and "继续上次的申请" in answer
    assert "详细地址" in await dialogue.say("继续")
    assert "身份证的正面照片" in await dialogue.say("北京市海淀区中关村大街1号3号楼101")


async def test_cancel_outside_a_flow(dialogue):
    await dialogue.say("你好")
    assert "当前没有正在办理的事项" in await dialogue.say("取消")


async def test_english_commands_and_language_switch(dialogue):
    await dialogue.say("你好")
    answer = await dialogue.say("English")
    assert "Switched to English" in answer and "Book a home visit" in answer
    await dialogue.play([
        ("1", "personal information"),
        ("help", "At any time you can reply"),
        ("I consent", "Are you the patient"),
        ("back", "please answer again"),
        ("restart", "start over"),
        ("cancel", "Stopped"),
        ("continue", "personal information"),
        ("human", "in the queue for our staff"),
        ("中文", "已切换为中文"),
    ])


async def test_voice_without_recognition_and_unsupported_messages(dialogue):
    await dialogue.intake(until="phone")
    assert "没能听清这段语音" in await dialogue.say(None, kind="voice")
    answer = await dialogue.say(None, kind="unsupported")
    assert "暂时无法处理这种消息" in answer and "联系电话" in answer


async def test_stale_button_gets_the_current_question(dialogue):
    await dialogue.intake(until="q_feeding")
    answer = await dialogue.say(None, kind="choice", choice="self", choice_context="intake:applicant")
    assert "按钮已经过期" in answer and "进食" in answer


async def test_media_at_a_text_step_is_refused_politely(dialogue, png):
    from flows.types import Media

    await dialogue.intake(until="phone")
    answer = await dialogue.say(media=[Media(png, "image/png", "x.png")])
    assert "不需要发送文件" in answer and "联系电话" in answer
