"""The local expressive model through the real transformers load-and-generate path.

Each test builds a tiny Llama-architecture causal LM and a byte-level BPE tokenizer (with a
chat template), saves them with ``save_pretrained`` into a temp dir and points
``LATENTSCORE_MODEL_DIR`` at it, exactly where downloaded weights would be. Two variants:

* random weights: writes gibberish, so the answer is retried and falls back to fast;
* "scripted" weights, wired by hand so greedy decoding writes one fixed reply: after any
  ordinary token the next token is the reply (one added token), after the reply the end of
  text. That proves a good reply is decoded, parsed and returned as the GenerateResult.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from latentscore.cli import app
from latentscore.errors import ModelNotAvailableError
from latentscore.models.base import clear_model_cache, resolve_model
from latentscore.models.expressive import (
    ANSWER_PREFIX,
    MODEL_DIR_ENV,
    ExpressiveModel,
    default_model_dir,
)
from latentscore.models.llm_prompt import build_messages, field_guide
from latentscore.vibe import vibe_to_result
from tests.llm_fakes import answer_config, good_answer, no_network_fixture  # noqa: F401

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

VIBE = "harbour lights at dusk"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

pytestmark = pytest.mark.usefixtures("no_network")


@pytest.fixture(autouse=True)
def _fresh_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    clear_model_cache()
    yield
    clear_model_cache()


def build_tokenizer(directory: Path, reply: str | None) -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([m["content"] for m in build_messages(VIBE)], trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>"
    )
    if reply is not None:
        fast.add_tokens([reply])
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(directory)
    return fast


def build_model_dir(directory: Path, reply: str | None = None) -> Path:
    """Save a tiny Llama + tokenizer; with ``reply``, wire it to write exactly that."""
    fast = build_tokenizer(directory, reply)
    hidden = 32
    config = transformers.LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    if reply is not None:
        reply_id = fast.convert_tokens_to_ids(reply)
        with torch.no_grad():
            for layer in model.model.layers:  # blocks add nothing: the state is the embedding
                layer.self_attn.o_proj.weight.zero_()
                layer.mlp.down_proj.weight.zero_()
            embed = model.model.embed_tokens.weight
            embed.zero_()
            embed[:, 0] = 1.0  # every ordinary token: direction 0
            embed[reply_id] = 0.0
            embed[reply_id, 1] = 1.0  # the reply token: direction 1
            head = model.lm_head.weight
            head.zero_()
            head[reply_id, 0] = 50.0  # after an ordinary token, write the reply
            head[fast.eos_token_id, 1] = 50.0  # after the reply, stop
    model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def scripted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reply = json.dumps(good_answer())
    assert reply.startswith(ANSWER_PREFIX)
    return build_model_dir(tmp_path_factory.mktemp("scripted"), reply[len(ANSWER_PREFIX) :])


@pytest.fixture(scope="module")
def random_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("random"))


def test_good_reply_becomes_the_result(scripted_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(scripted_dir))
    result = vibe_to_result(VIBE, model="expressive")
    assert result.model == "expressive"
    assert result.title == "Harbour Lights At Dusk"
    assert result.config.model_dump() == answer_config()
    assert [c.weight for c in result.palettes[0].colors] == ["xl", "lg", "md", "sm", "xs"]


def test_render_with_the_expressive_model(
    scripted_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import latentscore as ls

    monkeypatch.setenv(MODEL_DIR_ENV, str(scripted_dir))
    audio = ls.render(VIBE, duration=0.25, seed=2, model="expressive")
    assert audio.metadata.model == "expressive"
    assert audio.metadata.config.model_dump() == answer_config()


def test_prompt_uses_the_chat_template_and_the_shared_schema(scripted_dir: Path) -> None:
    model = ExpressiveModel.load(scripted_dir)
    prompt = model.prompt_text(build_messages(VIBE))
    assert prompt.startswith("<|user|>\n")  # the system prompt is folded into the user turn
    assert field_guide() in prompt and VIBE in prompt
    assert prompt.endswith("<|assistant|>\n" + ANSWER_PREFIX)


def test_gibberish_is_retried_then_falls_back(
    random_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="latentscore")
    model = ExpressiveModel.load(random_dir, max_new_tokens=24)
    result = vibe_to_result(VIBE, model=model)
    assert result.model == "fast"
    unusable = [r.getMessage() for r in caplog.records if "unusable" in r.getMessage()]
    assert len(unusable) == 2 and all(m.startswith("expressive: answer") for m in unusable)
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("model expressive could not answer" in m and "falling back" in m for m in warning)


def test_without_weights_the_error_says_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "nothing-here"
    monkeypatch.setenv(MODEL_DIR_ENV, str(empty))
    with pytest.raises(ModelNotAvailableError) as info:
        resolve_model("expressive")
    message = str(info.value)
    assert str(empty) in message
    assert "latentscore download expressive" in message
    assert MODEL_DIR_ENV in message


def test_without_torch_or_transformers_the_error_names_the_extra(
    scripted_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ModelNotAvailableError, match=r"pip install 'latentscore\[expressive\]'"):
        ExpressiveModel.load(scripted_dir)


def test_default_directory_is_under_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_model_dir() == tmp_path / "latentscore" / "models" / "expressive"
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "mine"))
    assert default_model_dir() == tmp_path / "mine"


def test_importing_the_modules_loads_no_ml_runtime() -> None:
    code = (
        "import sys\n"
        "import latentscore, latentscore.models.expressive, latentscore.models.download\n"
        "print(sorted(m for m in ('torch', 'transformers', 'huggingface_hub') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_download_explains_an_unreachable_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "weights"
    monkeypatch.setenv(MODEL_DIR_ENV, str(target))
    result = CliRunner().invoke(app, ["download", "expressive"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "could not download google/gemma-3-270m-it" in text
    assert "unreachable" in text
    assert str(target) in text.replace(" ", "") or str(target) in text
    assert "Traceback" not in result.output


def test_download_rejects_unknown_models() -> None:
    result = CliRunner().invoke(app, ["download", "fastest"])
    assert result.exit_code == 2
    assert "downloadable: expressive" in result.output
