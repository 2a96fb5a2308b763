"""Real speech made here: espeak-ng says a sentence (WAV), ffmpeg resamples it to 8 kHz, and the
reference AMR-NB encoder (libopencore-amrnb, through ctypes, since Debian's ffmpeg only decodes
AMR) writes it as WeChat stores voice messages: an ``#!AMR`` file of 12.2 kbit/s frames."""
from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
from pathlib import Path

import pytest

MR122 = 7  # enum Mode: 12.2 kbit/s, WeChat's voice quality
FRAME = 160  # samples per 20 ms frame at 8 kHz


def _amrnb() -> ctypes.CDLL:
    name = ctypes.util.find_library("opencore-amrnb")
    if not (name and shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("needs espeak-ng, ffmpeg and libopencore-amrnb0 (apt-get install …)")
    library = ctypes.CDLL(name)
    library.Encoder_Interface_init.restype = ctypes.c_void_p
    library.Encoder_Interface_Encode.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                                 ctypes.POINTER(ctypes.c_short), ctypes.c_char_p, ctypes.c_int]
    library.Encoder_Interface_exit.argtypes = [ctypes.c_void_p]
    return library


def spoken(text: str, directory: Path, voice: str = "cmn") -> bytes:
    """``text`` spoken by espeak-ng, as 8 kHz 16-bit mono PCM."""
    wav = directory / "spoken.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
    return subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(wav), "-ac", "1", "-ar", "8000",
                           "-f", "s16le", "pipe:1"], check=True, capture_output=True).stdout


def amr(pcm: bytes) -> bytes:
    """8 kHz PCM as an AMR-NB file (``#!AMR\\n`` and one frame per 20 ms)."""
    library = _amrnb()
    state = library.Encoder_Interface_init(0)
    out = bytearray(b"#!AMR\n")
    frame_bytes = FRAME * 2
    pcm = pcm + b"\0" * (-len(pcm) % frame_bytes)
    buffer = ctypes.create_string_buffer(64)
    try:
        for start in range(0, len(pcm), frame_bytes):
            samples = (ctypes.c_short * FRAME).from_buffer_copy(pcm[start:start + frame_bytes])
            size = library.Encoder_Interface_Encode(state, MR122, samples, buffer, 0)
            out += buffer.raw[:size]
    finally:
        library.Encoder_Interface_exit(state)
    return bytes(out)


def spoken_amr(text: str, directory: Path) -> bytes:
    return amr(spoken(text, directory))
