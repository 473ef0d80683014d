"""Bring-your-own LLM: ExternalModelSpec and "external:<id>" through LiteLLM's real code path.

Replies come from LiteLLM's own ``mock_response`` / ``mock_timeout`` handling inside
``litellm.completion`` / ``acompletion``, or from a local OpenAI-compatible HTTP server
(``fake_openai``) for the string form, which cannot carry ``mock_response``. Network access
beyond loopback is blocked throughout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import latentscore as ls
from latentscore.errors import InvalidConfigError, ModelNotAvailableError
from latentscore.models.base import clear_model_cache, resolve_model
from latentscore.models.external import ExternalModel, ExternalModelSpec
from latentscore.vibe import avibe_to_result, vibe_to_result
from tests.llm_fakes import (  # noqa: F401  (fixtures)
    FakeOpenAI,
    answer_config,
    fake_openai_fixture,
    good_answer,
    no_network_fixture,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-test-DO-NOT-LEAK-7f3a9c2e41"
VIBE = "harbour lights at dusk"

pytestmark = pytest.mark.usefixtures("no_network")


@pytest.fixture(autouse=True)
def _fresh_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(var, raising=False)
    clear_model_cache()
    yield
    clear_model_cache()


def spec(reply: Any, max_attempts: int = 3, **kwargs: Any) -> ExternalModelSpec:
    return ExternalModelSpec(
        model="openai/gpt-4o",
        api_key=SECRET,
        litellm_kwargs={"mock_response": reply, **kwargs},
        max_attempts=max_attempts,
    )


def assert_fell_back(result: ls.GenerateResult, caplog: pytest.LogCaptureFixture, why: str) -> None:
    assert result.model == "fast"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "external:openai/gpt-4o" in r.getMessage() and "falling back" in r.getMessage()
        for r in warnings
    ), [r.getMessage() for r in warnings]
    assert any(why in r.getMessage() for r in warnings), [r.getMessage() for r in warnings]


# --- the spec ------------------------------------------------------------------------------


def test_spec_never_reveals_the_key() -> None:
    s = ExternalModelSpec(
        model="external:openai/gpt-4o",
        api_key=SECRET,
        litellm_kwargs={"extra_headers": {"Authorization": f"Bearer {SECRET}"}, "timeout": 5},
    )
    assert s.model == "openai/gpt-4o"  # the external: prefix is accepted
    for text in (repr(s), str(s), str(s.model_dump()), s.model_dump_json(), f"{s!r}"):
        assert SECRET not in text, text
    assert s.model_dump()["litellm_kwargs"]["timeout"] == 5
    assert s.api_key is not None and s.api_key.get_secret_value() == SECRET


def test_spec_validation_errors_hide_inputs() -> None:
    with pytest.raises(InvalidConfigError) as info:
        ExternalModelSpec(model="openai/gpt-4o", api_key=12345678912345)  # type: ignore[arg-type]
    assert "12345678912345" not in str(info.value)
    with pytest.raises(InvalidConfigError, match="model"):
        ExternalModelSpec(model="external:", api_key=SECRET)


def test_spec_and_string_resolve_to_external_models() -> None:
    model = resolve_model(spec("{}"))
    assert isinstance(model, ExternalModel) and model.name == "external:openai/gpt-4o"
    named = resolve_model("external:anthropic/claude-sonnet-4-5-20250929")
    assert isinstance(named, ExternalModel)
    assert named.name == "external:anthropic/claude-sonnet-4-5-20250929"
    assert SECRET not in repr(model)
    with pytest.raises(InvalidConfigError, match="model id"):
        resolve_model("external:")


def test_structured_output_is_requested_where_supported() -> None:
    model = resolve_model(spec("{}"))
    request = model.request([{"role": "user", "content": "x"}])
    schema = request["response_format"]["json_schema"]["schema"]
    # the labelled fields (an exact "bpm" comes from the text itself: vibe.with_written_bpm)
    assert set(schema["properties"]["config"]["properties"]) == set(ls.MusicConfig.model_fields) - {
        "bpm"
    }
    assert request["timeout"] == 120.0
    assert "api_key" not in request  # added only at call time
    custom = ExternalModelSpec(model="openai/gpt-4o", litellm_kwargs={"timeout": 3}).to_model()
    assert custom.request([])["timeout"] == 3  # litellm_kwargs pass through and win


# --- answers through litellm.completion(mock_response=...) ---------------------------------


def test_good_answer_fills_metadata_and_config() -> None:
    result = vibe_to_result(VIBE, model=spec(json.dumps(good_answer())))
    assert result.model == "external:openai/gpt-4o"
    assert result.title == "Harbour Lights At Dusk"
    assert result.thinking.startswith("Warm light")
    assert result.config.model_dump() == answer_config()
    assert len(result.palettes) == 3
    assert result.palettes[0].colors[0].hex == "#101010"
    assert result.palettes[2].colors[4].weight == "xs"


def test_fenced_json_with_prose_around_it_is_read() -> None:
    reply = f"Sure! Here it is:\n```json\n{json.dumps(good_answer())}\n```\nEnjoy the music."
    result = vibe_to_result(VIBE, model=spec(reply))
    assert result.model == "external:openai/gpt-4o"
    assert result.config.model_dump() == answer_config()


def test_wrong_labels_are_repaired() -> None:
    config = {
        "Tempo": "Very Slow",
        "brightness": "DARK",
        "space": "huge",
        "Key": "Bb",
        "scale": "Aeolian",
        "pad": "warm",
        "texture": "Shimmer-Slow",
        "accent": "bell",
        "density": "five",
        "melody": "contemplitive",
        "rhythm": "off",
        "mood": "serene",  # not a field: ignored
    }
    title = "A Very Long Title That Goes On And On"
    reply = json.dumps(good_answer(config=config, title=title, palettes=good_answer()["palettes"]))
    result = vibe_to_result(VIBE, model=spec(reply))
    assert result.model == "external:openai/gpt-4o"
    assert result.config.tempo == "very_slow"
    assert result.config.brightness == "dark"
    assert result.config.space == "vast"
    assert result.config.root == "a#"
    assert result.config.mode == "minor"
    assert result.config.pad == "warm_slow"
    assert result.config.texture == "shimmer_slow"
    assert result.config.accent == "bells"
    assert result.config.density == 5
    assert result.config.melody == "contemplative"
    assert result.config.rhythm == "none"
    assert result.title == "A Very Long Title That Goes"  # cut to six words


def test_garbage_falls_back_to_fast_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="latentscore")
    result = vibe_to_result(VIBE, model=spec("I am sorry, I cannot help with music."))
    assert_fell_back(result, caplog, "no usable answer after 3 attempt(s)")
    assert isinstance(result.config, ls.MusicConfig)


def test_invalid_label_is_retried_then_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    bad = good_answer(config={**answer_config(), "tempo": "ludicrous speed"})
    caplog.set_level(logging.INFO, logger="latentscore")
    result = vibe_to_result(VIBE, model=spec(json.dumps(bad), max_attempts=2))
    assert_fell_back(result, caplog, "tempo: 'ludicrous speed' is not a label")
    unusable = [r for r in caplog.records if "unusable" in r.getMessage()]
    assert len(unusable) == 2


def test_timeout_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    timeout = ExternalModelSpec(
        model="openai/gpt-4o",
        api_key=SECRET,
        litellm_kwargs={"mock_timeout": True, "timeout": 0.05},
    )
    result = vibe_to_result(VIBE, model=timeout)
    assert_fell_back(result, caplog, "Timeout")


def test_provider_exception_falls_back_and_is_redacted(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # LiteLLM's own debug logging too
    logging.getLogger("LiteLLM").setLevel(logging.DEBUG)
    try:
        boom = RuntimeError(f"Incorrect API key provided: {SECRET}")
        result = vibe_to_result(VIBE, model=spec(boom))
    finally:
        logging.getLogger("LiteLLM").setLevel(logging.WARNING)
    assert_fell_back(result, caplog, "Incorrect API key provided: [REDACTED]")
    captured = capsys.readouterr()
    assert SECRET not in caplog.text
    assert SECRET not in captured.out + captured.err
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_render_plays_the_answer_and_keeps_it_as_metadata() -> None:
    audio = ls.render(VIBE, duration=0.5, seed=3, model=spec(json.dumps(good_answer())))
    info = audio.metadata
    assert isinstance(info.result, ls.GenerateResult)
    assert info.result.model == info.model == "external:openai/gpt-4o"
    assert info.config.model_dump() == answer_config()  # the config that played
    assert info.title == "Harbour Lights At Dusk" and info.thinking.startswith("Warm light")
    assert info.palettes[1].colors[0].hex == "#202020"
    assert len(audio) == round(0.5 * audio.sample_rate)
    same = ls.render(ls.MusicConfig(**answer_config()), duration=0.5, seed=3)
    assert (audio.samples == same.samples).all()


# --- the string form, over HTTP to a local OpenAI-compatible server -------------------------


def use_fake_openai(monkeypatch: pytest.MonkeyPatch, server: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)


def test_string_form_reads_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    use_fake_openai(monkeypatch, fake_openai)
    fake_openai.reply_with(json.dumps(good_answer()))
    result = vibe_to_result(VIBE, model="external:openai/gpt-4o")
    assert result.model == "external:openai/gpt-4o"
    assert result.config.model_dump() == answer_config()
    (request,) = fake_openai.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert request["json"]["response_format"]["type"] == "json_schema"
    assert VIBE in request["json"]["messages"][-1]["content"]


def test_string_form_retries_with_feedback_then_succeeds(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    use_fake_openai(monkeypatch, fake_openai)
    fake_openai.reply_with("no idea", json.dumps(good_answer()))
    result = vibe_to_result(VIBE, model="external:openai/gpt-4o")
    assert result.model == "external:openai/gpt-4o"
    first, second = fake_openai.requests
    messages = second["json"]["messages"]
    assert messages[-2] == {"role": "assistant", "content": "no idea"}
    assert "could not be used" in messages[-1]["content"]
    assert len(first["json"]["messages"]) == 2


def test_string_form_gets_the_same_fallback(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    use_fake_openai(monkeypatch, fake_openai)
    fake_openai.fail_with(401, f"Incorrect API key provided: {SECRET}")
    result = vibe_to_result(VIBE, model="external:openai/gpt-4o")
    assert_fell_back(result, caplog, "AuthenticationError")
    assert SECRET not in caplog.text


# --- async ---------------------------------------------------------------------------------


def test_async_uses_acompletion(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    calls: list[str] = []
    real = litellm.acompletion

    async def spy(**kwargs: Any) -> Any:
        calls.append(kwargs["model"])
        return await real(**kwargs)

    monkeypatch.setattr(litellm, "acompletion", spy)
    result = asyncio.run(avibe_to_result(VIBE, model=spec(json.dumps(good_answer()))))
    assert calls == ["openai/gpt-4o"]
    assert result.config.model_dump() == answer_config()


def test_astream_answers_vibes_through_acompletion(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    calls: list[str] = []
    real = litellm.acompletion

    async def spy(**kwargs: Any) -> Any:
        calls.append(kwargs["messages"][-1]["content"])
        return await real(**kwargs)

    monkeypatch.setattr(litellm, "acompletion", spy)
    model = spec(json.dumps(good_answer()))

    async def main() -> int:
        stream = ls.astream(iter(["first scene", "second scene"]), duration=0.25, model=model)
        return sum([len(chunk) async for chunk in stream])

    assert asyncio.run(main()) == round(0.5 * 44100)
    assert len(calls) == 2 and "first scene" in calls[0] and "second scene" in calls[1]


def test_async_failure_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    result = asyncio.run(avibe_to_result(VIBE, model=spec("garbage", max_attempts=1)))
    assert_fell_back(result, caplog, "no usable answer after 1 attempt(s)")


# --- installation --------------------------------------------------------------------------


def test_without_litellm_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # what an uninstalled package looks like
    with pytest.raises(ModelNotAvailableError, match=r"pip install 'latentscore\[external\]'"):
        resolve_model("external:openai/gpt-4o")
    with pytest.raises(ModelNotAvailableError, match="external"):
        ExternalModelSpec(model="openai/gpt-4o").to_model()


def test_litellm_is_imported_only_on_use_and_without_the_remote_cost_map() -> None:
    code = (
        "import os, sys\n"
        "import latentscore, latentscore.models.external\n"
        "assert 'litellm' not in sys.modules\n"
        "from latentscore.models.external import load_litellm\n"
        "litellm = load_litellm()\n"
        "print(os.environ['LITELLM_LOCAL_MODEL_COST_MAP'], litellm.telemetry)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("LITELLM")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout.split() == ["True", "False"]


def test_litellm_contacts_only_the_provider_a_model_names() -> None:
    # A fresh interpreter, the network refused and recorded: importing LiteLLM must try
    # nothing, and a call may only try the named provider's API host (LiteLLM otherwise
    # fetches its price list at import and an Anthropic beta-headers file from GitHub).
    code = (
        "import json, socket\n"
        "tried = []\n"
        "def refuse(*args, **kwargs):\n"
        "    tried.append(str(args[0][0] if args and isinstance(args[0], tuple) else args[0]))\n"
        "    raise OSError('blocked')\n"
        "socket.socket.connect = lambda self, addr: refuse(addr)\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from latentscore.models.external import load_litellm\n"
        "load_litellm()\n"
        "at_import = list(tried)\n"
        "import latentscore as ls\n"
        "ls.vibe_to_config('warm sunset', model='external:anthropic/claude-sonnet-4-5-20250929')\n"
        "ls.vibe_to_config('warm sunset', model='external:openai/gpt-4o')\n"
        "print(json.dumps({'import': at_import, 'calls': sorted(set(tried))}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM")}
    env.update(ANTHROPIC_API_KEY="sk-ant-test", OPENAI_API_KEY="sk-test")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
        env=env,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["import"] == []
    assert report["calls"] == ["api.anthropic.com", "api.openai.com"]
