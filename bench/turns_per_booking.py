"""Turns per booking for scripted families who answer in sentences, as families write on WeChat.

Each family is played through the real engine on a fresh SQLite database (terminal channel);
prints one JSON object: per family the turns to the booking number, the misunderstood turns,
and whether what was stored (patient, phone, address, applicant, person present, services,
assessment) is what they meant; plus the totals.
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))


def _png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


BARTHEL_ZH = ["她自己能吃饭", "洗澡得有人帮", "洗脸刷牙自己能行", "穿衣服要人帮着扣扣子", "大便能控制",
              "小便偶尔会尿裤子", "上厕所要人扶一下", "从床上到椅子要人稍微扶一把", "要一个人扶着才能走",
              "楼梯上不去", "最近挺稳定的", "没有，也没吃抗凝药"]
BARTHEL_EN = ["She eats by herself", "She needs help to bathe", "She can wash her face on her own",
              "She needs some help with buttons", "Yes, she is continent", "Occasional accidents",
              "She needs some help on the toilet", "Minor help, someone supervises",
              "She walks with help of one person", "She cannot do stairs", "Stable",
              "No, no blood thinners"]

VERBOSE = "--verbose" in sys.argv  # the conversations on stderr

FAMILIES: list[dict[str, Any]] = [
    {"name": "daughter, zh", "turns": [
        "你好，我想给我妈预约上门换药", "同意的", "我是她女儿，叫张丽，电话13812345678",
        "我妈叫王秀英", "身份证号是11010519491231002X", "家住北京市朝阳区望京街道花家地小区3号楼2单元501",
        "<id-card>", "<record>", "就这些了", *BARTHEL_ZH, "脑梗以后一直卧床，屁股上有压疮",
        "青霉素过敏", "每天吃阿司匹林", "主要是压疮换药", "对，就是换药",
        "到时候我在家陪着", "就用我的电话", "对，都没问题", "张丽", "1", "对，确认"],
     "stored": {"patient_name": "王秀英", "phone": "13812345678",
                "address": "北京市朝阳区望京街道花家地小区3号楼2单元501", "applicant_name": "张丽",
                "relation": "daughter", "present_name": "张丽", "present_phone": "13812345678",
                "services": ["wound_care"]}},
    {"name": "son, zh, father present", "turns": [
        "您好，帮我爸约个护士上门换尿管", "可以", "我是他儿子，叫李强", "我爸叫李建国",
        "110108194807150019", "打我手机就行，13912345678", "我爸住在海淀区中关村南大街5号院2号楼301",
        "<id-card>", "没有了", *BARTHEL_ZH, "前列腺术后留置尿管", "没有过敏", "无", "换尿管",
        "是", "不是我，是我妈在家陪着", "刘桂芝", "13700000000", "确认无误", "李强", "1", "确认"],
     "stored": {"patient_name": "李建国", "phone": "13912345678", "applicant_name": "李强",
                "relation": "son", "present_name": "刘桂芝", "present_phone": "13700000000",
                "services": ["urinary_catheter"]}},
    {"name": "daughter, en", "turns": [
        "Hello, I'd like to book a home nurse for my mother", "yes I agree",
        "I'm her daughter, my name is Anna Wu, phone 13812345678", "Her name is Mary Wong",
        "11010519491231002X", "Room 501, Building 3, Huajiadi, Chaoyang District, Beijing",
        "<id-card>", "that's all", *BARTHEL_EN, "bedridden after a stroke, pressure ulcer",
        "penicillin", "aspirin", "wound dressing", "Wound dressing change", "I will be there",
        "same number", "yes, all correct", "Anna Wu", "1", "yes confirm"],
     "stored": {"patient_name": "Mary Wong", "phone": "13812345678", "applicant_name": "Anna Wu",
                "relation": "daughter", "present_name": "Anna Wu", "services": ["wound_care"]}},
]


async def play(family: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    from backend.settings import get_settings
    from bot.runtime import open_runtime
    from flows.types import Inbound, Media
    from tests.flows.corpus import miss_lines, stored_facts

    runtime = await open_runtime(get_settings())
    turns = misses = 0
    booked = False
    try:
        for n, message in enumerate(family["turns"]):
            media = []
            if message in ("<id-card>", "<record>"):
                media = [Media(_png((64, 40) if message == "<id-card>" else (80, 60)), "image/png", "p.png")]
            inbound = Inbound(channel="terminal", user_id=family["name"], kind="file" if media else "text",
                              text=None if media else message, media=media, message_id=f"m{n}")
            replies = await runtime.engine.handle(inbound)
            text = "\n".join(r.text for r in replies)
            turns += 1
            if VERBOSE:
                print(f"> {message}\n{text}\n", file=sys.stderr)
            if any(marker and marker in text for marker in miss_lines("zh") + miss_lines("en")):
                misses += 1
            if "JH" in text and ("预约编号" in text or "booking number" in text.lower()):
                booked = True
                break
        stored = await stored_facts(runtime.sessions)
    finally:
        await runtime.close()
    wrong = {k: {"stored": stored.get(k), "meant": v} for k, v in family["stored"].items()
             if stored.get(k) != v}
    return {"family": family["name"], "turns": turns, "misunderstood": misses, "booked": booked,
            "stored_as_meant": not wrong, "wrong": wrong}


async def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JIAHU_DATA_DIR"] = tmp  # one trained NLU model for all, a database each
        os.environ.setdefault("JIAHU_SECRET_KEY", "bench-secret-key-0123456789-abcdefghijklmnop")
        for n, family in enumerate(FAMILIES):
            os.environ["JIAHU_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp}/family-{n}.db"
            from backend import config
            from backend.settings import get_settings

            get_settings.cache_clear()
            config.reload()
            results.append(await play(family, Path(tmp)))
    print(json.dumps({
        "families": results,
        "turns_per_booking_mean": round(sum(r["turns"] for r in results) / len(results), 1),
        "misunderstood_mean": round(sum(r["misunderstood"] for r in results) / len(results), 2),
        "all_booked": all(r["booked"] for r in results),
        "all_stored_as_meant": all(r["stored_as_meant"] for r in results),
    }, ensure_ascii=False))


if __name__ == "__main__":
    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(open(os.devnull, "w")))
    asyncio.run(main())
